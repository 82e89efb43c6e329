/* SPDX-License-Identifier: MIT */
/* CPU-bound program for bench/user.py: integer hashing, a sieve, a small
 * matrix multiply in doubles and sorting; prints a checksum so every run
 * (riscv64 under emulators, x86_64 natively) can be checked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 10;
    uint64_t h = 1469598103934665603ull;
    for (int s = 0; s < scale; s++) {
        for (uint32_t i = 0; i < 2000000; i++) {
            h = (h ^ i) * 1099511628211ull;
        }
        static uint8_t sieve[1 << 20];
        memset(sieve, 0, sizeof(sieve));
        unsigned primes = 0;
        for (unsigned i = 2; i < sizeof(sieve); i++) {
            if (!sieve[i]) {
                primes++;
                for (unsigned j = i * 2; j < sizeof(sieve); j += i) {
                    sieve[j] = 1;
                }
            }
        }
        h += primes;
        enum {
            N = 64
        };
        static double a[N][N], b[N][N], c[N][N];
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                a[i][j] = i + j * 0.5;
                b[i][j] = i - j * 0.25;
            }
        }
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++) {
                double t = 0;
                for (int k = 0; k < N; k++) {
                    t += a[i][k] * b[k][j];
                }
                c[i][j] = t;
            }
        }
        h += (uint64_t)c[N / 2][N / 3];
        static uint32_t v[100000];
        uint32_t r = (uint32_t)h;
        for (int i = 0; i < 100000; i++) {
            r = r * 1664525u + 1013904223u;
            v[i] = r;
        }
        qsort(v, 100000, sizeof(v[0]), cmp);
        h += v[500];
    }
    printf("checksum %016llx\n", (unsigned long long)h);
    return 0;
}
