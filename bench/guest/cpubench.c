// SPDX-License-Identifier: MIT
/*
 * cpubench: a CPU-bound guest program for bench/boot.py.  The same static
 * riscv64 binary runs under swede and under QEMU; it times itself with
 * clock_gettime(CLOCK_MONOTONIC) inside the guest and prints a checksum,
 * so a wrong result (an emulator bug) shows up as a differing checksum
 * rather than as a fast time.
 *
 * The work is a fixed mix, repeated `rounds` times (argv[1], default 8):
 * integer  - sieve of Eratosthenes, FNV-1a/xorshift hashing over a buffer,
 *            a merge sort of pseudo-random 32-bit keys, an integer matrix
 *            multiply, a byte-wise CRC-32 (table driven: loads + shifts);
 * floating - a double matrix multiply, a Mandelbrot escape count and a
 *            small n-body step loop (sqrt and divide).
 * Only +, -, *, /, sqrt are used for floating point (all exactly rounded
 * in IEEE 754), so the checksum is the same on every correct RV64GC.
 *
 * Output, one line each:
 *   cpubench: start rounds=N
 *   cpubench: <kernel> ms=<elapsed>            (per kernel, summed over rounds)
 *   cpubench: done elapsed_ms=<total> checksum=<hex>
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t xs_state = 88172645463325252ULL;

static uint64_t xorshift64(void)
{
    uint64_t x = xs_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return xs_state = x;
}

/* --- integer kernels ---------------------------------------------------- */

#define SIEVE_N (4u << 20)

static uint64_t k_sieve(void)
{
    static uint8_t comp[SIEVE_N];
    uint64_t count = 0, sum = 0;

    memset(comp, 0, sizeof(comp));
    for (uint32_t i = 2; (uint64_t)i * i < SIEVE_N; i++)
        if (!comp[i])
            for (uint32_t j = i * i; j < SIEVE_N; j += i)
                comp[j] = 1;
    for (uint32_t i = 2; i < SIEVE_N; i++)
        if (!comp[i]) {
            count++;
            sum += i;
        }
    return mix(count, sum);
}

#define HASH_LEN (1u << 20)

static uint64_t k_hash(void)
{
    static uint8_t buf[HASH_LEN];
    uint64_t h = 0;

    for (uint32_t i = 0; i < HASH_LEN; i += 8) {
        uint64_t v = xorshift64();
        memcpy(buf + i, &v, 8);
    }
    for (int pass = 0; pass < 4; pass++) {
        uint64_t f = 0xcbf29ce484222325ULL;
        for (uint32_t i = 0; i < HASH_LEN; i++) {
            f ^= buf[i];
            f *= 0x100000001b3ULL;
        }
        h = mix(h, f);
        /* perturb so the next pass hashes different data */
        buf[(uint32_t)f % HASH_LEN] ^= (uint8_t)pass;
    }
    return h;
}

static uint32_t crc_table[256];

static uint64_t k_crc(void)
{
    static uint8_t buf[HASH_LEN];
    uint32_t crc = 0xffffffffu;

    if (!crc_table[1])
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (int k = 0; k < 8; k++)
                c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[n] = c;
        }
    for (uint32_t i = 0; i < HASH_LEN; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 13);
    for (int pass = 0; pass < 3; pass++)
        for (uint32_t i = 0; i < HASH_LEN; i++)
            crc = crc_table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

#define SORT_N (1u << 18)

static void merge_sort(uint32_t *a, uint32_t *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = a[i] <= a[j] ? a[i++] : a[j++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof(*a));
    }
}

static uint64_t k_sort(void)
{
    static uint32_t a[SORT_N], tmp[SORT_N];
    uint64_t h = 0;

    for (uint32_t i = 0; i < SORT_N; i++)
        a[i] = (uint32_t)xorshift64();
    merge_sort(a, tmp, SORT_N);
    for (uint32_t i = 0; i < SORT_N; i += 97)
        h = mix(h, a[i]);
    for (uint32_t i = 1; i < SORT_N; i++)
        if (a[i - 1] > a[i])
            return 0xbad;
    return h;
}

#define MAT_N 128

static uint64_t k_imat(void)
{
    static int32_t a[MAT_N][MAT_N], b[MAT_N][MAT_N], c[MAT_N][MAT_N];
    uint64_t h = 0;

    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            a[i][j] = (int32_t)(xorshift64() % 201) - 100;
            b[i][j] = (int32_t)(xorshift64() % 201) - 100;
        }
    for (int pass = 0; pass < 8; pass++) {
        for (int i = 0; i < MAT_N; i++)
            for (int j = 0; j < MAT_N; j++) {
                int32_t s = 0;
                for (int k = 0; k < MAT_N; k++)
                    s += a[i][k] * b[k][j];
                c[i][j] = s;
            }
        /* feed the product back (scaled down) as the next left operand */
        for (int i = 0; i < MAT_N; i++)
            for (int j = 0; j < MAT_N; j++)
                a[i][j] = (c[i][j] >> 10) % 101;
        for (int i = 0; i < MAT_N; i++)
            h = mix(h, (uint32_t)c[i][(i * 7 + pass) % MAT_N]);
    }
    return h;
}

/* --- floating-point kernels --------------------------------------------- */

static uint64_t dbits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof(u));
    return u;
}

static uint64_t k_fmat(void)
{
    static double a[MAT_N][MAT_N], b[MAT_N][MAT_N], c[MAT_N][MAT_N];
    uint64_t h = 0;

    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            a[i][j] = (double)(xorshift64() % 1000) / 999.0 - 0.5;
            b[i][j] = (double)(xorshift64() % 1000) / 333.0 - 1.5;
        }
    for (int i = 0; i < MAT_N; i++)
        for (int j = 0; j < MAT_N; j++) {
            double s = 0.0;
            for (int k = 0; k < MAT_N; k++)
                s += a[i][k] * b[k][j];
            c[i][j] = s;
        }
    for (int i = 0; i < MAT_N; i++)
        h = mix(h, dbits(c[i][(i * 5) % MAT_N]));
    return h;
}

static uint64_t k_mandel(void)
{
    const int w = 192, hgt = 128, maxit = 200;
    uint64_t total = 0;

    for (int y = 0; y < hgt; y++) {
        double ci = -1.2 + 2.4 * y / hgt;
        for (int x = 0; x < w; x++) {
            double cr = -2.2 + 3.2 * x / w;
            double zr = 0.0, zi = 0.0;
            int it = 0;
            while (it < maxit && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total = total * 31 + (uint64_t)it;
        }
    }
    return total;
}

#define NBODY 32

static uint64_t k_nbody(void)
{
    double px[NBODY], py[NBODY], pz[NBODY];
    double vx[NBODY], vy[NBODY], vz[NBODY], m[NBODY];
    const double dt = 0.001;
    uint64_t h = 0;

    for (int i = 0; i < NBODY; i++) {
        px[i] = (double)(xorshift64() % 2001) / 1000.0 - 1.0;
        py[i] = (double)(xorshift64() % 2001) / 1000.0 - 1.0;
        pz[i] = (double)(xorshift64() % 2001) / 1000.0 - 1.0;
        vx[i] = vy[i] = vz[i] = 0.0;
        m[i] = 0.5 + (double)(xorshift64() % 100) / 100.0;
    }
    for (int step = 0; step < 100; step++) {
        for (int i = 0; i < NBODY; i++)
            for (int j = 0; j < NBODY; j++) {
                if (i == j)
                    continue;
                double dx = px[j] - px[i], dy = py[j] - py[i];
                double dz = pz[j] - pz[i];
                double d2 = dx * dx + dy * dy + dz * dz + 0.01;
                double inv = 1.0 / (d2 * sqrt(d2));
                vx[i] += dx * m[j] * inv * dt;
                vy[i] += dy * m[j] * inv * dt;
                vz[i] += dz * m[j] * inv * dt;
            }
        for (int i = 0; i < NBODY; i++) {
            px[i] += vx[i] * dt;
            py[i] += vy[i] * dt;
            pz[i] += vz[i] * dt;
        }
    }
    for (int i = 0; i < NBODY; i++)
        h = mix(h, dbits(px[i]) ^ dbits(vy[i]));
    return h;
}

/* ------------------------------------------------------------------------ */

struct kernel {
    const char *name;
    uint64_t (*fn)(void);
    double ms;
};

int main(int argc, char **argv)
{
    struct kernel ks[] = {
        { "sieve", k_sieve, 0 },   { "hash", k_hash, 0 },
        { "crc32", k_crc, 0 },     { "sort", k_sort, 0 },
        { "imat", k_imat, 0 },     { "fmat", k_fmat, 0 },
        { "mandel", k_mandel, 0 }, { "nbody", k_nbody, 0 },
    };
    const int nk = (int)(sizeof(ks) / sizeof(ks[0]));
    int rounds = argc > 1 ? atoi(argv[1]) : 8;
    uint64_t sum = 0;
    double t0, t1;

    if (rounds < 1)
        rounds = 1;
    printf("cpubench: start rounds=%d\n", rounds);
    fflush(stdout);
    t0 = now_ms();
    for (int r = 0; r < rounds; r++)
        for (int k = 0; k < nk; k++) {
            double s = now_ms();
            sum = mix(sum, ks[k].fn());
            ks[k].ms += now_ms() - s;
        }
    t1 = now_ms();
    for (int k = 0; k < nk; k++)
        printf("cpubench: %s ms=%.1f\n", ks[k].name, ks[k].ms);
    printf("cpubench: done elapsed_ms=%.1f checksum=%016llx\n", t1 - t0,
           (unsigned long long)sum);
    fflush(stdout);
    return 0;
}
