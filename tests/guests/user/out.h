/* SPDX-License-Identifier: MIT */
/*
 * Output for the computational cores in tests/guests/user/: the same
 * source is linked with shim_linux.c (static Linux program for
 * qemu-riscv64, output through write(2)) and with shim_bare.c (bare-metal
 * program for the virt board, output through the UART). Both print the
 * same transcript, ending in "RESULT: PASS" or "RESULT: FAIL (n)", and
 * exit with status n.
 */
#ifndef GUEST_USER_OUT_H
#define GUEST_USER_OUT_H

#include <stdint.h>

void out_str(const char *s);
void out_hex(uint64_t v); /* lower-case hex, no prefix, no padding */
void out_dec(int64_t v);
/* The core's entry; returns the number of failed self-checks. */
int user_main(void);

/* 64-bit mixing hash used to fold tables of results into one line */
static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3UL;
    h ^= h >> 29;
    return h;
}

/* xorshift64*: deterministic pseudo-random inputs */
static inline uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dUL;
}

#endif
