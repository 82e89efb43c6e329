/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the F/D arithmetic in src/cpu/riscv/fpu.c: every operation
 * against hand-computed bit patterns and fflags, under each rounding mode
 * where the mode matters. The expected values follow the RISC-V
 * unprivileged spec (F and D chapters) and were cross-checked against
 * qemu-riscv64; they do not come from the host FPU.
 */
#include <fenv.h>
#include <string.h>

#include "cpu/riscv/fpu.h"
#include "harness.h"

#define NX RV_FFLAG_NX
#define UF RV_FFLAG_UF
#define OF RV_FFLAG_OF
#define DZ RV_FFLAG_DZ
#define NV RV_FFLAG_NV

#define RNE RV_RM_RNE
#define RTZ RV_RM_RTZ
#define RDN RV_RM_RDN
#define RUP RV_RM_RUP
#define RMM RV_RM_RMM

#define S(x) RV_NANBOX(x)
#define CNS  S(RV_F32_CANON_NAN)
#define CND  RV_F64_CANON_NAN

/* Singles. */
#define S_ONE    0x3f800000u
#define S_TWO    0x40000000u
#define S_THREE  0x40400000u
#define S_HALF   0x3f000000u
#define S_M1     0xbf800000u
#define S_M2     0xc0000000u
#define S_MAX    0x7f7fffffu
#define S_INF    0x7f800000u
#define S_MINF   0xff800000u
#define S_MINNRM 0x00800000u
#define S_MAXSUB 0x007fffffu
#define S_MINSUB 0x00000001u
#define S_PZ     0x00000000u
#define S_NZ     0x80000000u
#define S_QNAN   0x7fc00123u /* quiet, with payload */
#define S_SNAN   0x7f800001u

/* Doubles. */
#define D_ONE    0x3ff0000000000000ull
#define D_TWO    0x4000000000000000ull
#define D_THREE  0x4008000000000000ull
#define D_HALF   0x3fe0000000000000ull
#define D_M1     0xbff0000000000000ull
#define D_M2     0xc000000000000000ull
#define D_MAX    0x7fefffffffffffffull
#define D_INF    0x7ff0000000000000ull
#define D_MINF   0xfff0000000000000ull
#define D_MINNRM 0x0010000000000000ull
#define D_MAXSUB 0x000fffffffffffffull
#define D_MINSUB 0x0000000000000001ull
#define D_PZ     0x0000000000000000ull
#define D_NZ     0x8000000000000000ull
#define D_QNAN   0x7ff8000000000123ull
#define D_SNAN   0x7ff0000000000001ull

static unsigned fl;

/* Evaluates expr (which accumulates into fl) and checks value and flags. */
#define EXPECT(expr, res, flags) \
    do {                         \
        fl = 0;                  \
        CHECK_EQ((expr), (res)); \
        CHECK_EQ(fl, (flags));   \
    } while (0)

/* The same with NX already set, as in a running guest: the fast path. */
#define EXPECT_NX(expr, res, flags) \
    do {                            \
        fl = NX;                    \
        CHECK_EQ((expr), (res));    \
        CHECK_EQ(fl, (flags) | NX); \
    } while (0)

#define OPS(op, a, b, rm)     rv_fpu_op(0, RV_##op, S(a), S(b), rm, &fl)
#define OPD(op, a, b, rm)     rv_fpu_op(1, RV_##op, a, b, rm, &fl)
#define FMAS(op, a, b, c, rm) rv_fpu_fma(0, RV_##op, S(a), S(b), S(c), rm, &fl)
#define FMAD(op, a, b, c, rm) rv_fpu_fma(1, RV_##op, a, b, c, rm, &fl)
#define CVTS(to, a, rm)       rv_fpu_to_int(0, RV_FINT_##to, S(a), rm, &fl)
#define CVTD(to, a, rm)       rv_fpu_to_int(1, RV_FINT_##to, a, rm, &fl)
#define ITOS(from, x, rm)     rv_fpu_from_int(0, RV_FINT_##from, x, rm, &fl)
#define ITOD(from, x, rm)     rv_fpu_from_int(1, RV_FINT_##from, x, rm, &fl)

TEST(add_sub_exact)
{
    EXPECT(OPS(FADD, S_ONE, S_TWO, RNE), S(S_THREE), 0);
    EXPECT(OPS(FSUB, S_ONE, S_TWO, RNE), S(S_M1), 0);
    EXPECT(OPD(FADD, D_ONE, D_TWO, RNE), D_THREE, 0);
    EXPECT(OPD(FSUB, D_ONE, D_TWO, RTZ), D_M1, 0);
    /* x - x is +0, except -0 under RDN. */
    EXPECT(OPS(FSUB, S_ONE, S_ONE, RNE), S(S_PZ), 0);
    EXPECT(OPS(FSUB, S_ONE, S_ONE, RDN), S(S_NZ), 0);
    EXPECT(OPD(FSUB, D_ONE, D_ONE, RUP), D_PZ, 0);
    EXPECT(OPD(FSUB, D_ONE, D_ONE, RDN), D_NZ, 0);
    EXPECT(OPD(FADD, D_NZ, D_NZ, RNE), D_NZ, 0);
    /* Subnormal sums are exact: no UF. */
    EXPECT(OPS(FADD, S_MINSUB, S_MINSUB, RNE), S(0x00000002u), 0);
}

TEST(add_rounding_modes)
{
    /* 1 + 2^-24: a tie between 1 and 1+2^-23. */
    EXPECT(OPS(FADD, S_ONE, 0x33800000u, RNE), S(S_ONE), NX);
    EXPECT(OPS(FADD, S_ONE, 0x33800000u, RTZ), S(S_ONE), NX);
    EXPECT(OPS(FADD, S_ONE, 0x33800000u, RDN), S(S_ONE), NX);
    EXPECT(OPS(FADD, S_ONE, 0x33800000u, RUP), S(0x3f800001u), NX);
    EXPECT(OPS(FADD, S_ONE, 0x33800000u, RMM), S(0x3f800001u), NX);
    EXPECT(OPS(FADD, S_M1, 0xb3800000u, RMM), S(0xbf800001u), NX);
    EXPECT(OPS(FADD, S_M1, 0xb3800000u, RNE), S(S_M1), NX);
    EXPECT(OPS(FADD, S_M1, 0xb3800000u, RDN), S(0xbf800001u), NX);
    EXPECT(OPS(FADD, S_M1, 0xb3800000u, RUP), S(S_M1), NX);
    /* Not a tie (1 + 2^-25): RMM rounds to nearest. */
    EXPECT(OPS(FADD, S_ONE, 0x33000000u, RMM), S(S_ONE), NX);
    /* A tie whose RNE result is already the far one. */
    EXPECT(OPS(FADD, 0x3f800001u, 0x33800000u, RNE), S(0x3f800002u), NX);
    EXPECT(OPS(FADD, 0x3f800001u, 0x33800000u, RMM), S(0x3f800002u), NX);
    /* Doubles: 2^53 + 1 ties between 2^53 and 2^53 + 2. */
    EXPECT(OPD(FADD, 0x4340000000000000ull, D_ONE, RNE), 0x4340000000000000ull,
           NX);
    EXPECT(OPD(FADD, 0x4340000000000000ull, D_ONE, RMM), 0x4340000000000001ull,
           NX);
    EXPECT(OPD(FSUB, 0xc340000000000000ull, D_ONE, RMM), 0xc340000000000001ull,
           NX);
    EXPECT(OPD(FADD, D_ONE, 0x3ca0000000000000ull, RMM), 0x3ff0000000000001ull,
           NX);
    EXPECT(OPD(FADD, D_ONE, 0x3c90000000000000ull, RMM), D_ONE, NX);
    EXPECT(OPD(FADD, D_ONE, 0x3c90000000000000ull, RUP), 0x3ff0000000000001ull,
           NX);
}

TEST(mul_div)
{
    EXPECT(OPS(FMUL, S_TWO, S_THREE, RNE), S(0x40c00000u), 0);
    EXPECT(OPD(FMUL, D_M2, D_THREE, RNE), 0xc018000000000000ull, 0);
    EXPECT(OPS(FDIV, S_ONE, S_TWO, RNE), S(S_HALF), 0);
    /* 1/3 = 0x3eaaaaaa.aa..: RNE and RTZ down, RUP up. */
    EXPECT(OPS(FDIV, S_ONE, S_THREE, RNE), S(0x3eaaaaabu), NX);
    EXPECT(OPS(FDIV, S_ONE, S_THREE, RTZ), S(0x3eaaaaaau), NX);
    EXPECT(OPS(FDIV, S_ONE, S_THREE, RUP), S(0x3eaaaaabu), NX);
    EXPECT(OPS(FDIV, S_ONE, S_THREE, RMM), S(0x3eaaaaabu), NX);
    EXPECT(OPD(FDIV, D_ONE, D_THREE, RNE), 0x3fd5555555555555ull, NX);
    EXPECT(OPD(FDIV, D_ONE, D_THREE, RUP), 0x3fd5555555555556ull, NX);
    EXPECT(OPD(FDIV, D_M1, D_THREE, RDN), 0xbfd5555555555556ull, NX);
    EXPECT(OPD(FDIV, D_M1, D_THREE, RMM), 0xbfd5555555555555ull, NX);
    /* Product ties: 1.5 * (1 + 3 ulp) = 1.5 + 4.5 ulp. */
    EXPECT(OPS(FMUL, 0x3fc00000u, 0x3f800003u, RNE), S(0x3fc00004u), NX);
    EXPECT(OPS(FMUL, 0x3fc00000u, 0x3f800003u, RMM), S(0x3fc00005u), NX);
    EXPECT(OPD(FMUL, 0x3ff8000000000000ull, 0x3ff0000000000003ull, RNE),
           0x3ff8000000000004ull, NX);
    EXPECT(OPD(FMUL, 0x3ff8000000000000ull, 0x3ff0000000000003ull, RMM),
           0x3ff8000000000005ull, NX);
    EXPECT(OPD(FMUL, 0xbff8000000000000ull, 0x3ff0000000000003ull, RMM),
           0xbff8000000000005ull, NX);
}

TEST(div_by_zero_and_invalid)
{
    EXPECT(OPS(FDIV, S_ONE, S_PZ, RNE), S(S_INF), DZ);
    EXPECT(OPS(FDIV, S_M1, S_PZ, RNE), S(S_MINF), DZ);
    EXPECT(OPS(FDIV, S_ONE, S_NZ, RTZ), S(S_MINF), DZ);
    EXPECT(OPD(FDIV, D_ONE, D_PZ, RNE), D_INF, DZ);
    EXPECT(OPD(FDIV, D_ONE, D_NZ, RMM), D_MINF, DZ);
    EXPECT(OPS(FDIV, S_PZ, S_PZ, RNE), CNS, NV);
    EXPECT(OPD(FDIV, D_PZ, D_NZ, RNE), CND, NV);
    EXPECT(OPS(FDIV, S_INF, S_MINF, RNE), CNS, NV);
    EXPECT(OPD(FMUL, D_INF, D_PZ, RNE), CND, NV);
    EXPECT(OPD(FADD, D_INF, D_MINF, RNE), CND, NV);
    EXPECT(OPS(FSUB, S_INF, S_INF, RMM), CNS, NV);
    /* Infinity arithmetic that is exact raises nothing. */
    EXPECT(OPS(FDIV, S_ONE, S_INF, RNE), S(S_PZ), 0);
    EXPECT(OPD(FDIV, D_INF, D_M2, RNE), D_MINF, 0);
    EXPECT(OPD(FDIV, D_PZ, D_INF, RNE), D_PZ, 0);
}

TEST(overflow)
{
    /* max * 2: infinity or the largest finite value, by mode and sign. */
    EXPECT(OPS(FMUL, S_MAX, S_TWO, RNE), S(S_INF), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_TWO, RMM), S(S_INF), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_TWO, RTZ), S(S_MAX), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_TWO, RDN), S(S_MAX), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_TWO, RUP), S(S_INF), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_M2, RTZ), S(0xff7fffffu), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_M2, RDN), S(S_MINF), OF | NX);
    EXPECT(OPS(FMUL, S_MAX, S_M2, RUP), S(0xff7fffffu), OF | NX);
    EXPECT(OPD(FADD, D_MAX, D_MAX, RNE), D_INF, OF | NX);
    EXPECT(OPD(FADD, D_MAX, D_MAX, RTZ), D_MAX, OF | NX);
    EXPECT(OPD(FADD, D_MAX, D_MAX, RDN), D_MAX, OF | NX);
    EXPECT(OPD(FADD, D_MAX, D_MAX, RUP), D_INF, OF | NX);
    EXPECT(OPD(FADD, D_MAX, D_MAX, RMM), D_INF, OF | NX);
    EXPECT(OPD(FMUL, D_MAX, D_M2, RTZ), 0xffefffffffffffffull, OF | NX);
    EXPECT(OPD(FMUL, D_MAX, D_M2, RDN), D_MINF, OF | NX);
    EXPECT(OPD(FMUL, D_MAX, D_M2, RUP), 0xffefffffffffffffull, OF | NX);
    /* Rounds below the overflow threshold: no OF. */
    EXPECT(OPD(FADD, D_MAX, D_ONE, RNE), D_MAX, NX);
}

TEST(underflow)
{
    /* Exact subnormal results raise nothing. */
    EXPECT(OPS(FMUL, S_MINNRM, S_HALF, RNE), S(0x00400000u), 0);
    EXPECT(OPD(FMUL, D_MINNRM, D_HALF, RNE), 0x0008000000000000ull, 0);
    /* minsub/2: a tie between 0 and minsub. */
    EXPECT(OPS(FMUL, S_MINSUB, S_HALF, RNE), S(S_PZ), UF | NX);
    EXPECT(OPS(FMUL, S_MINSUB, S_HALF, RTZ), S(S_PZ), UF | NX);
    EXPECT(OPS(FMUL, S_MINSUB, S_HALF, RUP), S(S_MINSUB), UF | NX);
    EXPECT(OPS(FMUL, S_MINSUB, S_HALF, RMM), S(S_MINSUB), UF | NX);
    EXPECT(OPS(FMUL, 0x80000001u, S_HALF, RMM), S(0x80000001u), UF | NX);
    EXPECT(OPS(FMUL, 0x80000001u, S_HALF, RNE), S(S_NZ), UF | NX);
    EXPECT(OPS(FMUL, 0x80000001u, S_HALF, RDN), S(0x80000001u), UF | NX);
    EXPECT(OPD(FMUL, D_MINSUB, D_HALF, RNE), D_PZ, UF | NX);
    EXPECT(OPD(FMUL, D_MINSUB, D_HALF, RMM), D_MINSUB, UF | NX);
    EXPECT(OPD(FDIV, D_MINSUB, 0x4010000000000000ull, RMM), D_PZ, UF | NX);
    /* 5 minsub / 2 = 2.5 minsub: a tie inside the subnormal range. */
    EXPECT(OPS(FDIV, 0x00000005u, S_TWO, RNE), S(0x00000002u), UF | NX);
    EXPECT(OPS(FDIV, 0x00000005u, S_TWO, RMM), S(0x00000003u), UF | NX);
    EXPECT(OPD(FDIV, 0x5ull, D_TWO, RNE), 0x2ull, UF | NX);
    EXPECT(OPD(FDIV, 0x5ull, D_TWO, RMM), 0x3ull, UF | NX);
    EXPECT(OPD(FDIV, 0x5ull, D_TWO, RUP), 0x3ull, UF | NX);
    /*
     * (1 + ulp) * maxsub = minnormal * (1 - 2^-46): tiny before rounding
     * but not after (RISC-V's rule) in RNE/RUP/RMM, tiny in RTZ/RDN.
     */
    EXPECT(OPS(FMUL, 0x3f800001u, S_MAXSUB, RNE), S(S_MINNRM), NX);
    EXPECT(OPS(FMUL, 0x3f800001u, S_MAXSUB, RUP), S(S_MINNRM), NX);
    EXPECT(OPS(FMUL, 0x3f800001u, S_MAXSUB, RMM), S(S_MINNRM), NX);
    EXPECT(OPS(FMUL, 0x3f800001u, S_MAXSUB, RTZ), S(S_MAXSUB), UF | NX);
    EXPECT(OPS(FMUL, 0x3f800001u, S_MAXSUB, RDN), S(S_MAXSUB), UF | NX);
    EXPECT(OPD(FMUL, 0x3ff0000000000001ull, D_MAXSUB, RNE), D_MINNRM, NX);
    EXPECT(OPD(FMUL, 0x3ff0000000000001ull, D_MAXSUB, RMM), D_MINNRM, NX);
    EXPECT(OPD(FMUL, 0x3ff0000000000001ull, D_MAXSUB, RTZ), D_MAXSUB, UF | NX);
    /*
     * (1 - 2^-24) * minnormal is tiny even after rounding to 24 bits, and
     * inexact in the subnormal grid: UF although the result is normal.
     */
    EXPECT(OPS(FMUL, 0x3f7fffffu, S_MINNRM, RNE), S(S_MINNRM), UF | NX);
    EXPECT(OPS(FMUL, 0x3f7fffffu, S_MINNRM, RMM), S(S_MINNRM), UF | NX);
    EXPECT(OPS(FMUL, 0x3f7fffffu, S_MINNRM, RTZ), S(S_MAXSUB), UF | NX);
    EXPECT(OPD(FMUL, 0x3fefffffffffffffull, D_MINNRM, RNE), D_MINNRM, UF | NX);
}

TEST(nan_inputs)
{
    EXPECT(OPS(FADD, S_SNAN, S_ONE, RNE), CNS, NV);
    EXPECT(OPS(FMUL, S_ONE, S_SNAN, RMM), CNS, NV);
    EXPECT(OPS(FADD, S_QNAN, S_ONE, RNE), CNS, 0);
    EXPECT(OPS(FDIV, S_ONE, S_QNAN, RTZ), CNS, 0);
    EXPECT(OPS(FSUB, 0xffc00000u, S_ONE, RNE), CNS, 0);
    EXPECT(OPD(FADD, D_SNAN, D_ONE, RNE), CND, NV);
    EXPECT(OPD(FDIV, D_QNAN, D_SNAN, RNE), CND, NV);
    EXPECT(OPD(FSUB, D_QNAN, D_ONE, RUP), CND, 0);
    EXPECT(OPD(FMUL, 0xfff8000000000000ull, D_ONE, RNE), CND, 0);
}

TEST(nan_boxing)
{
    /* An unboxed single reads as the canonical (quiet) NaN. */
    EXPECT(rv_fpu_op(0, RV_FADD, 0x000000003f800000ull, S(S_ONE), RNE, &fl),
           CNS, 0);
    EXPECT(rv_fpu_op(0, RV_FADD, S(S_ONE), 0x7fffffff3f800000ull, RNE, &fl),
           CNS, 0);
    EXPECT(rv_fpu_op(0, RV_FMIN, 0x3f800000ull, S(S_TWO), RNE, &fl), S(S_TWO),
           0);
    EXPECT(rv_fpu_op(0, RV_FSGNJ, 0x3f800000ull, S(S_M1), RNE, &fl),
           S(0xffc00000u), 0);
    EXPECT(rv_fpu_sqrt(0, 0x40800000ull, RNE, &fl), CNS, 0);
    EXPECT(rv_fpu_cmp(0, RV_FEQ, 0x3f800000ull, 0x3f800000ull, &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLE, 0x3f800000ull, S(S_ONE), &fl), 0, NV);
    CHECK_EQ(rv_fpu_class(0, 0x00000000ff800000ull), 1u << 9);
    EXPECT(rv_fpu_cvt_fmt(1, 0x3f800000ull, RNE, &fl), CND, 0);
    EXPECT(rv_fpu_to_int(0, RV_FINT_W, 0xbf800000ull, RNE, &fl), 0x7fffffffull,
           NV);
    EXPECT(rv_fpu_fma(0, RV_FMADD, S(S_ONE), S(S_ONE), 0x0ull, RNE, &fl), CNS,
           0);
    /* Results are boxed, negative ones too. */
    EXPECT(OPS(FMUL, S_M1, S_TWO, RNE), 0xffffffffc0000000ull, 0);
}

TEST(min_max)
{
    EXPECT(OPS(FMIN, S_ONE, S_TWO, RNE), S(S_ONE), 0);
    EXPECT(OPS(FMAX, S_ONE, S_TWO, RNE), S(S_TWO), 0);
    EXPECT(OPS(FMIN, S_M2, S_M1, RNE), S(S_M2), 0);
    EXPECT(OPS(FMAX, S_M2, S_M1, RNE), S(S_M1), 0);
    EXPECT(OPS(FMIN, S_MINF, S_M2, RNE), S(S_MINF), 0);
    EXPECT(OPS(FMAX, S_INF, S_MAX, RNE), S(S_INF), 0);
    /* -0 < +0 in both operand orders. */
    EXPECT(OPS(FMIN, S_PZ, S_NZ, RNE), S(S_NZ), 0);
    EXPECT(OPS(FMIN, S_NZ, S_PZ, RNE), S(S_NZ), 0);
    EXPECT(OPS(FMAX, S_PZ, S_NZ, RNE), S(S_PZ), 0);
    EXPECT(OPS(FMAX, S_NZ, S_PZ, RNE), S(S_PZ), 0);
    EXPECT(OPD(FMIN, D_PZ, D_NZ, RNE), D_NZ, 0);
    EXPECT(OPD(FMAX, D_NZ, D_PZ, RNE), D_PZ, 0);
    /* One NaN: the other operand; NV only for a signalling NaN. */
    EXPECT(OPS(FMIN, S_QNAN, S_ONE, RNE), S(S_ONE), 0);
    EXPECT(OPS(FMAX, S_ONE, S_QNAN, RNE), S(S_ONE), 0);
    EXPECT(OPS(FMIN, S_SNAN, S_ONE, RNE), S(S_ONE), NV);
    EXPECT(OPS(FMAX, S_M1, S_SNAN, RNE), S(S_M1), NV);
    EXPECT(OPD(FMIN, D_QNAN, D_M1, RNE), D_M1, 0);
    EXPECT(OPD(FMAX, D_SNAN, D_NZ, RNE), D_NZ, NV);
    /* Both NaN: canonical NaN. */
    EXPECT(OPS(FMIN, S_QNAN, S_QNAN, RNE), CNS, 0);
    EXPECT(OPS(FMAX, S_QNAN, S_SNAN, RNE), CNS, NV);
    EXPECT(OPD(FMAX, D_QNAN, 0xfff8000000000000ull, RNE), CND, 0);
    EXPECT(OPD(FMIN, D_SNAN, D_SNAN, RNE), CND, NV);
    EXPECT(OPD(FMIN, D_ONE, D_TWO, RNE), D_ONE, 0);
    EXPECT(OPD(FMAX, D_M2, D_M1, RNE), D_M1, 0);
}

TEST(sign_injection)
{
    EXPECT(OPS(FSGNJ, S_ONE, S_M2, RNE), S(S_M1), 0);
    EXPECT(OPS(FSGNJ, S_M1, S_TWO, RNE), S(S_ONE), 0);
    EXPECT(OPS(FSGNJN, S_ONE, S_M2, RNE), S(S_ONE), 0);
    EXPECT(OPS(FSGNJN, S_ONE, S_TWO, RNE), S(S_M1), 0);
    EXPECT(OPS(FSGNJX, S_M1, S_M2, RNE), S(S_ONE), 0);
    EXPECT(OPS(FSGNJX, S_M1, S_TWO, RNE), S(S_M1), 0);
    /* NaNs pass through untouched and quietly, signalling or not. */
    EXPECT(OPS(FSGNJ, S_SNAN, S_M1, RNE), S(0xff800001u), 0);
    EXPECT(OPS(FSGNJN, S_QNAN, S_QNAN, RNE), S(0xffc00123u), 0);
    EXPECT(OPS(FSGNJX, S_ONE, S_SNAN, RNE), S(S_ONE), 0);
    EXPECT(OPD(FSGNJ, D_SNAN, D_M1, RNE), 0xfff0000000000001ull, 0);
    EXPECT(OPD(FSGNJN, D_ONE, D_ONE, RNE), D_M1, 0);
    EXPECT(OPD(FSGNJX, D_M1, D_NZ, RNE), D_ONE, 0);
    EXPECT(OPD(FSGNJX, D_QNAN, D_TWO, RNE), D_QNAN, 0);
}

TEST(fma)
{
    EXPECT(FMAS(FMADD, S_TWO, S_THREE, S_ONE, RNE), S(0x40e00000u), 0);
    EXPECT(FMAS(FMSUB, S_TWO, S_THREE, S_ONE, RNE), S(0x40a00000u), 0);
    EXPECT(FMAS(FNMSUB, S_TWO, S_THREE, S_ONE, RNE), S(0xc0a00000u), 0);
    EXPECT(FMAS(FNMADD, S_TWO, S_THREE, S_ONE, RNE), S(0xc0e00000u), 0);
    EXPECT(FMAD(FMADD, D_TWO, D_THREE, D_ONE, RNE), 0x401c000000000000ull, 0);
    EXPECT(FMAD(FMSUB, D_TWO, D_THREE, D_ONE, RNE), 0x4014000000000000ull, 0);
    EXPECT(FMAD(FNMSUB, D_TWO, D_THREE, D_ONE, RNE), 0xc014000000000000ull, 0);
    EXPECT(FMAD(FNMADD, D_TWO, D_THREE, D_ONE, RNE), 0xc01c000000000000ull, 0);
    /*
     * One rounding: (1 + ulp)^2 - 1 = 2^-22 + 2^-46 exactly, a tie; a
     * separate multiply would have lost the 2^-46.
     */
    EXPECT(FMAS(FMSUB, 0x3f800001u, 0x3f800001u, S_ONE, RNE), S(0x34800000u),
           NX);
    EXPECT(FMAS(FMSUB, 0x3f800001u, 0x3f800001u, S_ONE, RMM), S(0x34800001u),
           NX);
    EXPECT(FMAS(FMSUB, 0x3f800001u, 0x3f800001u, S_ONE, RUP), S(0x34800001u),
           NX);
    EXPECT(FMAS(FNMADD, 0x3f800001u, 0x3f800001u, S_M1, RMM), S(0xb4800001u),
           NX);
    EXPECT(
        FMAD(FMSUB, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_ONE, RNE),
        0x3cc0000000000000ull, NX);
    EXPECT(
        FMAD(FMSUB, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_ONE, RMM),
        0x3cc0000000000001ull, NX);
    EXPECT(
        FMAD(FNMSUB, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_ONE, RMM),
        0xbcc0000000000001ull, NX);
    EXPECT(
        FMAD(FMSUB, 0x3ff0000000000001ull, 0x3ff0000000000001ull, D_ONE, RDN),
        0x3cc0000000000000ull, NX);
    /* inf * 0 is invalid even when the addend is a quiet NaN. */
    EXPECT(FMAS(FMADD, S_INF, S_PZ, S_QNAN, RNE), CNS, NV);
    EXPECT(FMAD(FMADD, D_NZ, D_MINF, D_QNAN, RNE), CND, NV);
    EXPECT(FMAD(FNMADD, D_INF, D_PZ, D_ONE, RNE), CND, NV);
    EXPECT(FMAS(FMADD, S_SNAN, S_ONE, S_ONE, RNE), CNS, NV);
    EXPECT(FMAS(FMADD, S_ONE, S_ONE, S_SNAN, RNE), CNS, NV);
    EXPECT(FMAD(FMADD, D_ONE, D_ONE, D_QNAN, RNE), CND, 0);
    EXPECT(FMAD(FMADD, D_INF, D_ONE, D_MINF, RNE), CND, NV);
    /* The sign of an exact zero: (-a)*b - c, rounded in the mode. */
    EXPECT(FMAS(FNMADD, S_ONE, S_PZ, S_NZ, RNE), S(S_PZ), 0);
    EXPECT(FMAS(FNMADD, S_ONE, S_PZ, S_NZ, RDN), S(S_NZ), 0);
    EXPECT(FMAD(FMSUB, D_ONE, D_PZ, D_PZ, RNE), D_PZ, 0);
    EXPECT(FMAD(FMSUB, D_ONE, D_PZ, D_PZ, RDN), D_NZ, 0);
    /* Overflow and underflow through fma. */
    EXPECT(FMAD(FMADD, D_MAX, D_TWO, D_M1, RTZ), D_MAX, OF | NX);
    EXPECT(FMAS(FMADD, S_MINSUB, S_HALF, S_PZ, RMM), S(S_MINSUB), UF | NX);
}

TEST(sqrt)
{
    EXPECT(rv_fpu_sqrt(0, S(0x40800000u), RNE, &fl), S(S_TWO), 0);
    EXPECT(rv_fpu_sqrt(1, 0x4010000000000000ull, RMM, &fl), D_TWO, 0);
    /* sqrt(2) = 1.41421356237...: 0x3fb504f3 is below it. */
    EXPECT(rv_fpu_sqrt(0, S(S_TWO), RNE, &fl), S(0x3fb504f3u), NX);
    EXPECT(rv_fpu_sqrt(0, S(S_TWO), RTZ, &fl), S(0x3fb504f3u), NX);
    EXPECT(rv_fpu_sqrt(0, S(S_TWO), RUP, &fl), S(0x3fb504f4u), NX);
    EXPECT(rv_fpu_sqrt(0, S(S_TWO), RMM, &fl), S(0x3fb504f3u), NX);
    /* ... and the double 0x3ff6a09e667f3bcd above it. */
    EXPECT(rv_fpu_sqrt(1, D_TWO, RNE, &fl), 0x3ff6a09e667f3bcdull, NX);
    EXPECT(rv_fpu_sqrt(1, D_TWO, RDN, &fl), 0x3ff6a09e667f3bccull, NX);
    EXPECT(rv_fpu_sqrt(1, D_TWO, RUP, &fl), 0x3ff6a09e667f3bcdull, NX);
    EXPECT(rv_fpu_sqrt(1, D_TWO, RMM, &fl), 0x3ff6a09e667f3bcdull, NX);
    EXPECT(rv_fpu_sqrt(0, S(S_NZ), RNE, &fl), S(S_NZ), 0);
    EXPECT(rv_fpu_sqrt(1, D_NZ, RDN, &fl), D_NZ, 0);
    EXPECT(rv_fpu_sqrt(0, S(S_M1), RNE, &fl), CNS, NV);
    EXPECT(rv_fpu_sqrt(1, D_MINF, RNE, &fl), CND, NV);
    EXPECT(rv_fpu_sqrt(1, 0x8000000000000001ull, RNE, &fl), CND, NV);
    EXPECT(rv_fpu_sqrt(1, D_INF, RNE, &fl), D_INF, 0);
    EXPECT(rv_fpu_sqrt(0, S(S_SNAN), RNE, &fl), CNS, NV);
    EXPECT(rv_fpu_sqrt(1, D_QNAN, RNE, &fl), CND, 0);
    /* sqrt(minsub double) = 2^-537, exact and normal. */
    EXPECT(rv_fpu_sqrt(1, 0x0000000000000001ull, RNE, &fl),
           0x1e60000000000000ull, 0);
}

TEST(compare)
{
    EXPECT(rv_fpu_cmp(0, RV_FEQ, S(S_ONE), S(S_ONE), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(0, RV_FEQ, S(S_ONE), S(S_TWO), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_ONE), S(S_TWO), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_TWO), S(S_ONE), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLE, S(S_TWO), S(S_ONE), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLE, S(S_ONE), S(S_ONE), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_M2), S(S_M1), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_M1), S(S_M2), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_MINF), S(0xff7fffffu), &fl), 1, 0);
    /* -0 == +0. */
    EXPECT(rv_fpu_cmp(0, RV_FEQ, S(S_NZ), S(S_PZ), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_NZ), S(S_PZ), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FLE, S(S_PZ), S(S_NZ), &fl), 1, 0);
    EXPECT(rv_fpu_cmp(1, RV_FEQ, D_NZ, D_PZ, &fl), 1, 0);
    EXPECT(rv_fpu_cmp(1, RV_FLT, D_M1, D_PZ, &fl), 1, 0);
    EXPECT(rv_fpu_cmp(1, RV_FLE, D_INF, D_MAX, &fl), 0, 0);
    /* FEQ is quiet; FLT and FLE signal on any NaN. */
    EXPECT(rv_fpu_cmp(0, RV_FEQ, S(S_QNAN), S(S_QNAN), &fl), 0, 0);
    EXPECT(rv_fpu_cmp(0, RV_FEQ, S(S_SNAN), S(S_ONE), &fl), 0, NV);
    EXPECT(rv_fpu_cmp(0, RV_FLT, S(S_QNAN), S(S_ONE), &fl), 0, NV);
    EXPECT(rv_fpu_cmp(0, RV_FLE, S(S_ONE), S(S_QNAN), &fl), 0, NV);
    EXPECT(rv_fpu_cmp(1, RV_FEQ, D_ONE, D_QNAN, &fl), 0, 0);
    EXPECT(rv_fpu_cmp(1, RV_FEQ, D_ONE, D_SNAN, &fl), 0, NV);
    EXPECT(rv_fpu_cmp(1, RV_FLT, D_QNAN, D_ONE, &fl), 0, NV);
    EXPECT(rv_fpu_cmp(1, RV_FLE, D_SNAN, D_SNAN, &fl), 0, NV);
}

TEST(classify)
{
    CHECK_EQ(rv_fpu_class(0, S(S_MINF)), 1u << 0);
    CHECK_EQ(rv_fpu_class(0, S(S_M1)), 1u << 1);
    CHECK_EQ(rv_fpu_class(0, S(0x80000001u)), 1u << 2);
    CHECK_EQ(rv_fpu_class(0, S(S_NZ)), 1u << 3);
    CHECK_EQ(rv_fpu_class(0, S(S_PZ)), 1u << 4);
    CHECK_EQ(rv_fpu_class(0, S(S_MAXSUB)), 1u << 5);
    CHECK_EQ(rv_fpu_class(0, S(S_MINNRM)), 1u << 6);
    CHECK_EQ(rv_fpu_class(0, S(S_INF)), 1u << 7);
    CHECK_EQ(rv_fpu_class(0, S(S_SNAN)), 1u << 8);
    CHECK_EQ(rv_fpu_class(0, S(0xffc00000u)), 1u << 9);
    CHECK_EQ(rv_fpu_class(1, D_MINF), 1u << 0);
    CHECK_EQ(rv_fpu_class(1, 0xffefffffffffffffull), 1u << 1);
    CHECK_EQ(rv_fpu_class(1, 0x800fffffffffffffull), 1u << 2);
    CHECK_EQ(rv_fpu_class(1, D_NZ), 1u << 3);
    CHECK_EQ(rv_fpu_class(1, D_PZ), 1u << 4);
    CHECK_EQ(rv_fpu_class(1, D_MINSUB), 1u << 5);
    CHECK_EQ(rv_fpu_class(1, D_MAX), 1u << 6);
    CHECK_EQ(rv_fpu_class(1, D_INF), 1u << 7);
    CHECK_EQ(rv_fpu_class(1, 0x7ff4000000000000ull), 1u << 8);
    CHECK_EQ(rv_fpu_class(1, D_QNAN), 1u << 9);
    /* A double NaN-boxed single is a quiet NaN as a double. */
    CHECK_EQ(rv_fpu_class(1, S(S_ONE)), 1u << 9);
}

TEST(to_int_edges)
{
    /* 2^31, -2^31 as singles. */
    EXPECT(CVTS(W, 0x4f000000u, RNE), 0x7fffffffull, NV);
    EXPECT(CVTS(W, 0xcf000000u, RNE), 0xffffffff80000000ull, 0);
    EXPECT(CVTS(WU, 0x4f000000u, RNE), 0xffffffff80000000ull, 0);
    EXPECT(CVTS(L, 0x4f000000u, RNE), 0x80000000ull, 0);
    /* -2^31 - 1 and -2^31 - 0.5 as doubles. */
    EXPECT(CVTD(W, 0xc1e0000000200000ull, RTZ), 0xffffffff80000000ull, NV);
    EXPECT(CVTD(W, 0xc1e0000000100000ull, RTZ), 0xffffffff80000000ull, NX);
    EXPECT(CVTD(W, 0xc1e0000000100000ull, RNE), 0xffffffff80000000ull, NX);
    EXPECT(CVTD(W, 0xc1e0000000100000ull, RUP), 0xffffffff80000000ull, NX);
    EXPECT(CVTD(W, 0xc1e0000000100000ull, RDN), 0xffffffff80000000ull, NV);
    EXPECT(CVTD(W, 0xc1e0000000100000ull, RMM), 0xffffffff80000000ull, NV);
    /* 2^31 - 0.5. */
    EXPECT(CVTD(W, 0x41dfffffffe00000ull, RTZ), 0x7fffffffull, NX);
    EXPECT(CVTD(W, 0x41dfffffffe00000ull, RNE), 0x7fffffffull, NV);
    EXPECT(CVTD(W, 0x41dfffffffe00000ull, RDN), 0x7fffffffull, NX);
    EXPECT(CVTD(WU, 0x41dfffffffe00000ull, RNE), 0xffffffff80000000ull, NX);
    /* WU results are sign-extended: 3e9 and 2^32 - 1. */
    EXPECT(CVTS(WU, 0x4f32d05eu, RNE), 0xffffffffb2d05e00ull, 0);
    EXPECT(CVTD(WU, 0x41efffffffe00000ull, RNE), 0xffffffffffffffffull, 0);
    EXPECT(CVTD(WU, 0x41f0000000000000ull, RNE), 0xffffffffffffffffull, NV);
    /* 2^63, -2^63, 2^64. */
    EXPECT(CVTD(L, 0x43e0000000000000ull, RNE), 0x7fffffffffffffffull, NV);
    EXPECT(CVTD(LU, 0x43e0000000000000ull, RNE), 0x8000000000000000ull, 0);
    EXPECT(CVTD(L, 0xc3e0000000000000ull, RNE), 0x8000000000000000ull, 0);
    EXPECT(CVTD(L, 0xc3e0000000000001ull, RNE), 0x8000000000000000ull, NV);
    EXPECT(CVTD(LU, 0x43efffffffffffffull, RNE), 0xfffffffffffff800ull, 0);
    EXPECT(CVTD(LU, 0x43f0000000000000ull, RNE), 0xffffffffffffffffull, NV);
    EXPECT(CVTS(L, 0x5f000000u, RTZ), 0x7fffffffffffffffull, NV);
    EXPECT(CVTS(LU, 0x5f800000u, RTZ), 0xffffffffffffffffull, NV);
    /* NaN gives the maximum, infinities saturate; all NV. */
    EXPECT(CVTS(W, S_QNAN, RNE), 0x7fffffffull, NV);
    EXPECT(CVTS(W, 0xffc00000u, RNE), 0x7fffffffull, NV);
    EXPECT(CVTS(WU, S_SNAN, RNE), 0xffffffffffffffffull, NV);
    EXPECT(CVTD(L, D_QNAN, RNE), 0x7fffffffffffffffull, NV);
    EXPECT(CVTD(LU, 0xfff8000000000000ull, RNE), 0xffffffffffffffffull, NV);
    EXPECT(CVTS(W, S_INF, RNE), 0x7fffffffull, NV);
    EXPECT(CVTS(W, S_MINF, RNE), 0xffffffff80000000ull, NV);
    EXPECT(CVTD(WU, D_MINF, RNE), 0, NV);
    EXPECT(CVTD(L, D_MINF, RNE), 0x8000000000000000ull, NV);
    EXPECT(CVTD(LU, D_INF, RNE), 0xffffffffffffffffull, NV);
    EXPECT(CVTD(LU, D_M1, RNE), 0, NV);
    /* Zeros, tiny values. */
    EXPECT(CVTD(L, D_NZ, RNE), 0, 0);
    EXPECT(CVTD(LU, D_NZ, RDN), 0, 0);
    EXPECT(CVTS(W, S_MINSUB, RUP), 1, NX);
    EXPECT(CVTS(W, 0x80000001u, RDN), 0xffffffffffffffffull, NX);
    EXPECT(CVTS(WU, 0x80000001u, RDN), 0, NV);
}

TEST(to_int_rounding)
{
    /* -0.5 under each mode, signed and unsigned. */
    EXPECT(CVTS(W, 0xbf000000u, RNE), 0, NX);
    EXPECT(CVTS(W, 0xbf000000u, RTZ), 0, NX);
    EXPECT(CVTS(W, 0xbf000000u, RDN), 0xffffffffffffffffull, NX);
    EXPECT(CVTS(W, 0xbf000000u, RUP), 0, NX);
    EXPECT(CVTS(W, 0xbf000000u, RMM), 0xffffffffffffffffull, NX);
    EXPECT(CVTD(WU, 0xbfe0000000000000ull, RNE), 0, NX);
    EXPECT(CVTD(WU, 0xbfe0000000000000ull, RTZ), 0, NX);
    EXPECT(CVTD(WU, 0xbfe0000000000000ull, RDN), 0, NV);
    EXPECT(CVTD(WU, 0xbfe0000000000000ull, RUP), 0, NX);
    EXPECT(CVTD(WU, 0xbfe0000000000000ull, RMM), 0, NV);
    EXPECT(CVTD(LU, 0xbfe0000000000000ull, RTZ), 0, NX);
    EXPECT(CVTD(L, 0xbfe0000000000000ull, RDN), 0xffffffffffffffffull, NX);
    /* Ties: 2.5, -2.5, 3.5, 0.5. */
    EXPECT(CVTS(W, 0x40200000u, RNE), 2, NX);
    EXPECT(CVTS(W, 0x40200000u, RMM), 3, NX);
    EXPECT(CVTS(W, 0xc0200000u, RNE), 0xfffffffffffffffeull, NX);
    EXPECT(CVTS(W, 0xc0200000u, RMM), 0xfffffffffffffffdull, NX);
    EXPECT(CVTD(L, 0x4004000000000000ull, RMM), 3, NX);
    EXPECT(CVTD(L, 0xc004000000000000ull, RMM), 0xfffffffffffffffdull, NX);
    EXPECT(CVTD(L, 0xc004000000000000ull, RNE), 0xfffffffffffffffeull, NX);
    EXPECT(CVTD(LU, 0x4004000000000000ull, RMM), 3, NX);
    EXPECT(CVTD(LU, 0x400c000000000000ull, RNE), 4, NX);
    EXPECT(CVTD(W, D_HALF, RNE), 0, NX);
    EXPECT(CVTD(W, D_HALF, RMM), 1, NX);
    /* 2.4 is not a tie. */
    EXPECT(CVTS(W, 0x4019999au, RMM), 2, NX);
    EXPECT(CVTS(W, 0x4019999au, RUP), 3, NX);
    EXPECT(CVTS(W, 0xc019999au, RDN), 0xfffffffffffffffdull, NX);
    EXPECT(CVTS(W, 0xc019999au, RTZ), 0xfffffffffffffffeull, NX);
    /* Exact integers raise nothing. */
    EXPECT(CVTD(W, D_M2, RDN), 0xfffffffffffffffeull, 0);
}

TEST(from_int)
{
    EXPECT(ITOS(W, 0, RNE), S(S_PZ), 0);
    EXPECT(ITOD(L, 0, RDN), D_PZ, 0);
    EXPECT(ITOS(W, 0xffffffffffffffffull, RNE), S(S_M1), 0);
    /* W and WU read only the low 32 bits. */
    EXPECT(ITOS(W, 0x00000000ffffffffull, RNE), S(S_M1), 0);
    EXPECT(ITOD(WU, 0xffffffff00000001ull, RNE), D_ONE, 0);
    EXPECT(ITOD(W, 0x80000000ull, RNE), 0xc1e0000000000000ull, 0);
    EXPECT(ITOD(WU, 0xffffffffull, RNE), 0x41efffffffe00000ull, 0);
    /* 2^32 - 1 in a single. */
    EXPECT(ITOS(WU, 0xffffffffull, RNE), S(0x4f800000u), NX);
    EXPECT(ITOS(WU, 0xffffffffull, RTZ), S(0x4f7fffffu), NX);
    EXPECT(ITOS(WU, 0xffffffffull, RMM), S(0x4f800000u), NX);
    EXPECT(ITOS(W, 0x7fffffffull, RDN), S(0x4effffffu), NX);
    /* Extremes. */
    EXPECT(ITOS(L, 0x8000000000000000ull, RNE), S(0xdf000000u), 0);
    EXPECT(ITOD(L, 0x8000000000000000ull, RNE), 0xc3e0000000000000ull, 0);
    EXPECT(ITOD(LU, 0xffffffffffffffffull, RNE), 0x43f0000000000000ull, NX);
    EXPECT(ITOD(LU, 0xffffffffffffffffull, RTZ), 0x43efffffffffffffull, NX);
    EXPECT(ITOD(LU, 0xffffffffffffffffull, RDN), 0x43efffffffffffffull, NX);
    EXPECT(ITOD(LU, 0xffffffffffffffffull, RUP), 0x43f0000000000000ull, NX);
    EXPECT(ITOD(L, 0x7fffffffffffffffull, RTZ), 0x43dfffffffffffffull, NX);
    /* 2^24 + 1 ties between 2^24 and 2^24 + 2; 2^24 + 3 rounds to even. */
    EXPECT(ITOS(W, 0x1000001ull, RNE), S(0x4b800000u), NX);
    EXPECT(ITOS(W, 0x1000001ull, RMM), S(0x4b800001u), NX);
    EXPECT(ITOS(W, 0x1000001ull, RUP), S(0x4b800001u), NX);
    EXPECT(ITOS(L, (uint64_t)-0x1000001ll, RNE), S(0xcb800000u), NX);
    EXPECT(ITOS(L, (uint64_t)-0x1000001ll, RMM), S(0xcb800001u), NX);
    EXPECT(ITOS(L, (uint64_t)-0x1000001ll, RDN), S(0xcb800001u), NX);
    EXPECT(ITOS(L, (uint64_t)-0x1000001ll, RUP), S(0xcb800000u), NX);
    EXPECT(ITOS(W, 0x1000003ull, RNE), S(0x4b800002u), NX);
    EXPECT(ITOS(W, 0x1000003ull, RMM), S(0x4b800002u), NX);
    EXPECT(ITOS(W, 0x1000003ull, RTZ), S(0x4b800001u), NX);
    EXPECT(ITOD(L, 0x20000000000001ull, RNE), 0x4340000000000000ull, NX);
    EXPECT(ITOD(L, 0x20000000000001ull, RMM), 0x4340000000000001ull, NX);
    EXPECT(ITOD(LU, 0x20000000000002ull, RMM), 0x4340000000000001ull, 0);
}

TEST(cvt_fmt)
{
    /* D.S is exact; NaNs become canonical, signalling ones raise NV. */
    EXPECT(rv_fpu_cvt_fmt(1, S(0x3fc00000u), RNE, &fl), 0x3ff8000000000000ull,
           0);
    EXPECT(rv_fpu_cvt_fmt(1, S(S_NZ), RNE, &fl), D_NZ, 0);
    EXPECT(rv_fpu_cvt_fmt(1, S(S_MINSUB), RNE, &fl), 0x36a0000000000000ull, 0);
    EXPECT(rv_fpu_cvt_fmt(1, S(S_MINF), RNE, &fl), D_MINF, 0);
    EXPECT(rv_fpu_cvt_fmt(1, S(S_SNAN), RNE, &fl), CND, NV);
    EXPECT(rv_fpu_cvt_fmt(1, S(S_QNAN), RNE, &fl), CND, 0);
    /* S.D: 1 + 2^-24 is a tie. */
    EXPECT(rv_fpu_cvt_fmt(0, D_ONE, RNE, &fl), S(S_ONE), 0);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3ff0000010000000ull, RNE, &fl), S(S_ONE), NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3ff0000010000000ull, RMM, &fl), S(0x3f800001u),
           NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3ff0000010000000ull, RUP, &fl), S(0x3f800001u),
           NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0xbff0000010000000ull, RMM, &fl), S(0xbf800001u),
           NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0xbff0000010000000ull, RUP, &fl), S(S_M1), NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3ff0000010000001ull, RNE, &fl), S(0x3f800001u),
           NX);
    /* Overflow. */
    EXPECT(rv_fpu_cvt_fmt(0, D_MAX, RNE, &fl), S(S_INF), OF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, D_MAX, RTZ, &fl), S(S_MAX), OF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0xffefffffffffffffull, RUP, &fl), S(0xff7fffffu),
           OF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0xffefffffffffffffull, RMM, &fl), S(S_MINF),
           OF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, D_INF, RTZ, &fl), S(S_INF), 0);
    /* Underflow: 2^-150 ties between 0 and the smallest subnormal. */
    EXPECT(rv_fpu_cvt_fmt(0, 0x3690000000000000ull, RNE, &fl), S(S_PZ),
           UF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3690000000000000ull, RMM, &fl), S(S_MINSUB),
           UF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x3690000000000000ull, RUP, &fl), S(S_MINSUB),
           UF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0xb690000000000000ull, RMM, &fl), S(0x80000001u),
           UF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, D_MINSUB, RNE, &fl), S(S_PZ), UF | NX);
    EXPECT(rv_fpu_cvt_fmt(0, 0x36a0000000000000ull, RNE, &fl), S(S_MINSUB), 0);
    EXPECT(rv_fpu_cvt_fmt(0, D_NZ, RNE, &fl), S(S_NZ), 0);
    /* NaNs. */
    EXPECT(rv_fpu_cvt_fmt(0, D_SNAN, RNE, &fl), CNS, NV);
    EXPECT(rv_fpu_cvt_fmt(0, D_QNAN, RNE, &fl), CNS, 0);
    EXPECT(rv_fpu_cvt_fmt(0, 0xfff8000000000000ull, RMM, &fl), CNS, 0);
}

TEST(sticky_inexact)
{
    /* Results only inexact: no host flags are read. */
    EXPECT_NX(OPS(FADD, S_ONE, S_TWO, RNE), S(S_THREE), 0);
    EXPECT_NX(OPD(FDIV, D_ONE, D_THREE, RNE), 0x3fd5555555555555ull, 0);
    EXPECT_NX(FMAS(FMSUB, 0x3f800001u, 0x3f800001u, S_ONE, RNE), S(0x34800000u),
              0);
    EXPECT_NX(rv_fpu_sqrt(1, D_TWO, RNE, &fl), 0x3ff6a09e667f3bcdull, 0);
    /* Every other flag still shows. */
    EXPECT_NX(OPS(FMUL, S_MAX, S_TWO, RNE), S(S_INF), OF);
    EXPECT_NX(OPD(FADD, D_MAX, D_MAX, RNE), D_INF, OF);
    EXPECT_NX(OPS(FDIV, S_ONE, S_PZ, RNE), S(S_INF), DZ);
    EXPECT_NX(OPD(FDIV, D_PZ, D_PZ, RNE), CND, NV);
    EXPECT_NX(rv_fpu_sqrt(0, S(S_M1), RNE, &fl), CNS, NV);
    EXPECT_NX(rv_fpu_sqrt(1, D_NZ, RNE, &fl), D_NZ, 0);
    EXPECT_NX(OPS(FADD, S_SNAN, S_ONE, RNE), CNS, NV);
    EXPECT_NX(OPS(FSUB, S_INF, S_INF, RNE), CNS, NV);
    EXPECT_NX(FMAD(FMADD, D_INF, D_PZ, D_QNAN, RNE), CND, NV);
    /* Results at the smallest normal may be tiny; below it, are. */
    EXPECT_NX(OPS(FMUL, 0x3f7fffffu, S_MINNRM, RNE), S(S_MINNRM), UF);
    EXPECT_NX(OPD(FMUL, 0x3fefffffffffffffull, D_MINNRM, RNE), D_MINNRM, UF);
    EXPECT_NX(OPD(FMUL, D_MINNRM, 0x3fe0000000000001ull, RNE),
              0x0008000000000000ull, UF);
    EXPECT_NX(OPS(FMUL, S_MINNRM, S_HALF, RNE), S(0x00400000u), 0);
    EXPECT_NX(OPD(FSUB, D_ONE, D_ONE, RNE), D_PZ, 0);
    EXPECT_NX(OPS(FMUL, 0x3f800001u, S_MAXSUB, RNE), S(S_MINNRM), 0);
}

TEST(flags_accumulate)
{
    /* fflags is OR-ed into, never cleared. */
    fl = RV_FFLAG_DZ;
    rv_fpu_op(0, RV_FDIV, S(S_ONE), S(S_THREE), RNE, &fl);
    CHECK_EQ(fl, DZ | NX);
    rv_fpu_op(1, RV_FADD, D_ONE, D_ONE, RNE, &fl);
    CHECK_EQ(fl, DZ | NX);
}

TEST(host_mode_restored)
{
    volatile double one = 1.0, three = 3.0;
    double third;
    uint64_t bits;

    fl = 0;
    rv_fpu_op(1, RV_FDIV, D_ONE, D_THREE, RUP, &fl);
    rv_fpu_op(1, RV_FADD, D_ONE, 0x3c90000000000000ull, RMM, &fl);
    rv_fpu_cvt_fmt(0, D_MAX, RTZ, &fl);
    CHECK_EQ(fegetround(), FE_TONEAREST);
    third = one / three;
    memcpy(&bits, &third, sizeof(bits));
    CHECK_EQ(bits, 0x3fd5555555555555ull);
}

int main(void)
{
    RUN(add_sub_exact);
    RUN(add_rounding_modes);
    RUN(mul_div);
    RUN(div_by_zero_and_invalid);
    RUN(overflow);
    RUN(underflow);
    RUN(nan_inputs);
    RUN(nan_boxing);
    RUN(min_max);
    RUN(sign_injection);
    RUN(fma);
    RUN(sqrt);
    RUN(compare);
    RUN(classify);
    RUN(to_int_edges);
    RUN(to_int_rounding);
    RUN(from_int);
    RUN(cvt_fmt);
    RUN(sticky_inexact);
    RUN(flags_accumulate);
    RUN(host_mode_restored);
    HARNESS_END();
}
