/* SPDX-License-Identifier: MIT */
/* out.h for the bare-metal runtime (lib.c prints the RESULT line). */
#include "lib.h"
#include "out.h"

void out_str(const char *s)
{
    puts_(s);
}

void out_hex(uint64_t v)
{
    pr("%x", v);
}

void out_dec(int64_t v)
{
    pr("%d", v);
}

int main(void)
{
    return user_main();
}
