/* SPDX-License-Identifier: MIT */
/* out.h for a static Linux program (oracle: qemu-riscv64). */
#include <string.h>
#include <unistd.h>

#include "out.h"

void out_str(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(1, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void out_hex(uint64_t v)
{
    char buf[17];
    int n = 16;
    buf[n] = 0;
    do {
        buf[--n] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    out_str(buf + n);
}

void out_dec(int64_t v)
{
    char buf[24];
    int n = 23;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    buf[n] = 0;
    do {
        buf[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--n] = '-';
    out_str(buf + n);
}

int main(void)
{
    int r = user_main();
    if (r) {
        out_str("RESULT: FAIL (");
        out_dec(r);
        out_str(")\n");
    } else {
        out_str("RESULT: PASS\n");
    }
    return r;
}
