/* SPDX-License-Identifier: MIT */
/*
 * The F and D extensions' arithmetic (RISC-V unprivileged spec, chapters
 * "F" and "D", IEEE 754-2008). Add, sub, mul, div, sqrt and FMA, and the
 * double-to-single conversion, run on the host's SSE unit with its rounding
 * mode set from rm and its sticky flags read back; x86 detects tininess
 * after rounding, as RISC-V does, so the host's underflow flag is the
 * guest's. The host has no round-to-nearest-ties-to-max-magnitude (RMM):
 * such an operation is computed in RNE, which gives the same flags and the
 * same value except on an exact tie, and a tie is detected by redoing the
 * operation in a wider format (double for single, long double for double)
 * where the tie point is representable and checking that the wide result is
 * exact and equal to it. RNE with NX already set skips the host flags
 * (see fpu_fast_f32). Everything that needs no rounding (min/max, compares,
 * sign injection, fclass) and the integer conversions are done on the bits
 * in software. This module does not resolve DYN or check frm.
 */
#include "cpu/riscv/fpu.h"

#include <assert.h>
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* Excess precision would round twice and break every result here. */
#if FLT_EVAL_METHOD != 0
#error "fpu.c needs FLT_EVAL_METHOD == 0 (SSE arithmetic on x86)"
#endif

/*
 * The RMM tie check for doubles needs a long double that holds the tie
 * point (54 bits) and half the smallest double subnormal exactly.
 */
_Static_assert(LDBL_MANT_DIG > DBL_MANT_DIG &&
                   LDBL_MIN_EXP < DBL_MIN_EXP - DBL_MANT_DIG,
               "long double too narrow for the RMM tie check");

#define F32_SIGN  0x80000000u
#define F32_INF   0x7f800000u
#define F32_QUIET 0x00400000u
#define F64_SIGN  0x8000000000000000ull
#define F64_INF   0x7ff0000000000000ull
#define F64_QUIET 0x0008000000000000ull

/* Host operations the rounding modes and flags apply to. */
enum fpu_kind {
    FPU_K_ADD,
    FPU_K_SUB,
    FPU_K_MUL,
    FPU_K_DIV,
    FPU_K_SQRT,
    FPU_K_FMA,
};

static inline float fpu_f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

static inline uint32_t fpu_f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof(b));
    return b;
}

static inline double fpu_f64(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

static inline uint64_t fpu_f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

/* A single that is not NaN-boxed reads as the canonical NaN (spec 13.2). */
static inline uint32_t fpu_unbox(uint64_t x)
{
    if ((x >> 32) != 0xffffffffu) {
        return RV_F32_CANON_NAN;
    }
    return (uint32_t)x;
}

/*
 * Classification on bits, never on host values: a host compare of a
 * signalling NaN would raise a flag, and bits work for both widths.
 */
static inline uint64_t fpu_sign(int d)
{
    return d ? F64_SIGN : F32_SIGN;
}

static inline uint64_t fpu_inf(int d)
{
    return d ? F64_INF : F32_INF;
}

static inline uint64_t fpu_canon(int d)
{
    return d ? RV_F64_CANON_NAN : RV_F32_CANON_NAN;
}

static inline int fpu_is_nan(int d, uint64_t x)
{
    return (x & ~fpu_sign(d)) > fpu_inf(d);
}

static inline int fpu_is_snan(int d, uint64_t x)
{
    return fpu_is_nan(d, x) && !(x & (d ? F64_QUIET : F32_QUIET));
}

static inline int fpu_is_inf(int d, uint64_t x)
{
    return (x & ~fpu_sign(d)) == fpu_inf(d);
}

static inline int fpu_is_zero(int d, uint64_t x)
{
    return (x & ~fpu_sign(d)) == 0;
}

/*
 * Host floating-point environment. On x86-64 MXCSR is written whole: it is
 * two instructions where glibc's feclearexcept also saves and reloads the
 * x87 environment, and writing a constant also undoes any FTZ/DAZ or
 * unmasked exception someone left on this thread. Outside begin/end the
 * host rounds to nearest with exceptions masked; its sticky flags are
 * undefined.
 */
#if defined(__x86_64__)
#define FPU_MXCSR_BASE 0x1f80u /* all exceptions masked, RC nearest */

static const unsigned fpu_mxcsr_rc[4] = {
    [RV_RM_RNE] = 0x0000,
    [RV_RM_RTZ] = 0x6000,
    [RV_RM_RDN] = 0x2000,
    [RV_RM_RUP] = 0x4000,
};

static inline void fpu_host_begin(unsigned rm)
{
    _mm_setcsr(FPU_MXCSR_BASE | fpu_mxcsr_rc[rm]);
}

/*
 * MXCSR flags: IE 0x01, DE 0x02 (ignored), ZE 0x04, OE 0x08, UE 0x10,
 * PE 0x20. Only a directed mode is written back: MXCSR accesses cost more
 * than the operation, and the sticky flags a write would clear are masked,
 * read by nobody else and reset by the next begin.
 */
static inline unsigned fpu_host_end(unsigned rm)
{
    unsigned c = _mm_getcsr();

    if (rm != RV_RM_RNE) {
        _mm_setcsr(FPU_MXCSR_BASE);
    }
    return ((c & 0x01) << 4) | ((c & 0x04) << 1) | ((c & 0x08) >> 1) |
           ((c & 0x10) >> 3) | ((c & 0x20) >> 5);
}
#else
static const int fpu_fe_round[4] = {
    [RV_RM_RNE] = FE_TONEAREST,
    [RV_RM_RTZ] = FE_TOWARDZERO,
    [RV_RM_RDN] = FE_DOWNWARD,
    [RV_RM_RUP] = FE_UPWARD,
};

static inline void fpu_host_begin(unsigned rm)
{
    feclearexcept(FE_ALL_EXCEPT);
    if (rm != RV_RM_RNE) {
        fesetround(fpu_fe_round[rm]);
    }
}

/* Hosts that detect tininess before rounding (Arm) would over-report UF
 * for exact values just below the smallest normal that round up to it. */
static inline unsigned fpu_host_end(unsigned rm)
{
    int ex = fetestexcept(FE_ALL_EXCEPT);
    unsigned f = 0;

    if (rm != RV_RM_RNE) {
        fesetround(FE_TONEAREST);
    }
    f |= (ex & FE_INVALID) ? RV_FFLAG_NV : 0;
    f |= (ex & FE_DIVBYZERO) ? RV_FFLAG_DZ : 0;
    f |= (ex & FE_OVERFLOW) ? RV_FFLAG_OF : 0;
    f |= (ex & FE_UNDERFLOW) ? RV_FFLAG_UF : 0;
    f |= (ex & FE_INEXACT) ? RV_FFLAG_NX : 0;
    return f;
}
#endif

/*
 * The operation itself, between begin and end. The volatile operands and
 * result pin it there: -frounding-math alone does not stop GCC from moving
 * arithmetic across the environment accesses.
 */
static float fpu_host_f32(enum fpu_kind k, float a, float b, float c)
{
    volatile float va = a, vb = b, vc = c;
    volatile float r;

    switch (k) {
    case FPU_K_ADD:
        r = va + vb;
        break;
    case FPU_K_SUB:
        r = va - vb;
        break;
    case FPU_K_MUL:
        r = va * vb;
        break;
    case FPU_K_DIV:
        r = va / vb;
        break;
    case FPU_K_SQRT:
        r = sqrtf(va);
        break;
    case FPU_K_FMA:
    default:
        r = fmaf(va, vb, vc);
        break;
    }
    return r;
}

static double fpu_host_f64(enum fpu_kind k, double a, double b, double c)
{
    volatile double va = a, vb = b, vc = c;
    volatile double r;

    switch (k) {
    case FPU_K_ADD:
        r = va + vb;
        break;
    case FPU_K_SUB:
        r = va - vb;
        break;
    case FPU_K_MUL:
        r = va * vb;
        break;
    case FPU_K_DIV:
        r = va / vb;
        break;
    case FPU_K_SQRT:
        r = sqrt(va);
        break;
    case FPU_K_FMA:
    default:
        r = fma(va, vb, vc);
        break;
    }
    return r;
}

/*
 * RMM differs from RNE only when the exact result lies exactly halfway
 * between two representable neighbours and RNE picked the one nearer zero;
 * flags cannot differ (an overflow tie goes to infinity and the tie below
 * the smallest normal rounds up to it in both modes). So given the inexact
 * RNE result rb, the answer is the next value away from zero iff the exact
 * result equals the midpoint. Redone in double (24+24 bits of product,
 * exponent range to spare), the operation is exact exactly when its exact
 * result has at most 53 bits, which any single midpoint has; an inexact
 * wide result therefore means no tie. Callers skip sqrt: a square root is
 * never a midpoint (the square of a p+1-bit odd significand has more than
 * p bits).
 */
static uint32_t fpu_rmm_f32(enum fpu_kind k, float a, float b, float c,
                            uint32_t rb)
{
    uint32_t away = rb + 1; /* bits are sign-magnitude: +1 is away */
    double mid = ((double)fpu_f32(rb) + (double)fpu_f32(away)) / 2;
    double w;
    unsigned fl;

    fpu_host_begin(RV_RM_RNE);
    w = fpu_host_f64(k, a, b, c);
    fl = fpu_host_end(RV_RM_RNE);
    return !(fl & RV_FFLAG_NX) && w == mid ? away : rb;
}

/*
 * The same for doubles in long double (x87 extended on x86-64, 64 bits,
 * 15-bit exponent). The x87 flags are only reachable through fenv; this is
 * the slow path and runs only for inexact RMM results. For FMA, glibc's
 * fmal is correctly rounded and raises inexact exactly.
 */
static uint64_t fpu_rmm_f64(enum fpu_kind k, double a, double b, double c,
                            uint64_t rb)
{
    volatile long double wa = a, wb = b, wc = c;
    volatile long double w;
    uint64_t away = rb + 1;
    long double mid;

    feclearexcept(FE_INEXACT);
    switch (k) {
    case FPU_K_ADD:
        w = wa + wb;
        break;
    case FPU_K_SUB:
        w = wa - wb;
        break;
    case FPU_K_MUL:
        w = wa * wb;
        break;
    case FPU_K_DIV:
        w = wa / wb;
        break;
    case FPU_K_FMA:
        w = fmal(wa, wb, wc);
        break;
    case FPU_K_SQRT:
    default:
        return rb;
    }
    if (fetestexcept(FE_INEXACT)) {
        feclearexcept(FE_INEXACT);
        return rb;
    }
    mid = ((long double)fpu_f64(rb) + (long double)fpu_f64(away)) / 2;
    return w == mid ? away : rb;
}

/*
 * The fast path, after QEMU's hardfloat: reading the host flags waits for
 * the FP pipeline to drain and costs several times the operation itself.
 * Inexact is sticky and almost always already set in a running guest's
 * fflags, and for RNE on zero or normal operands every other flag shows in
 * the operands or the result: DZ needs a zero divisor, NV a negative sqrt
 * operand (infinities and NaNs are excluded), OF an infinite result and UF
 * a result at or below the smallest normal (a result above it was not tiny
 * after rounding). Any of those takes the full path. No mode is set: the
 * host rounds to nearest outside begin/end.
 */
static inline int fpu_zero_or_normal(int d, uint64_t x)
{
    uint64_t e = x & fpu_inf(d);

    return e != fpu_inf(d) && (e != 0 || (x & ~fpu_sign(d)) == 0);
}

static int fpu_fast_f32(enum fpu_kind k, uint32_t a, uint32_t b, uint32_t c,
                        uint32_t *res)
{
    float fa = fpu_f32(a), fb = fpu_f32(b), r;

    if (!fpu_zero_or_normal(0, a) || !fpu_zero_or_normal(0, b) ||
        !fpu_zero_or_normal(0, c)) {
        return 0;
    }
    switch (k) {
    case FPU_K_ADD:
        r = fa + fb;
        break;
    case FPU_K_SUB:
        r = fa - fb;
        break;
    case FPU_K_MUL:
        r = fa * fb;
        break;
    case FPU_K_DIV:
        if (fpu_is_zero(0, b)) {
            return 0;
        }
        r = fa / fb;
        break;
    case FPU_K_SQRT:
        if (a & F32_SIGN) {
            return 0;
        }
        r = sqrtf(fa);
        break;
    case FPU_K_FMA:
    default:
        r = fmaf(fa, fb, fpu_f32(c));
        break;
    }
    if (!(fabsf(r) > FLT_MIN && fabsf(r) <= FLT_MAX)) {
        return 0;
    }
    *res = fpu_f32_bits(r);
    return 1;
}

static int fpu_fast_f64(enum fpu_kind k, uint64_t a, uint64_t b, uint64_t c,
                        uint64_t *res)
{
    double fa = fpu_f64(a), fb = fpu_f64(b), r;

    if (!fpu_zero_or_normal(1, a) || !fpu_zero_or_normal(1, b) ||
        !fpu_zero_or_normal(1, c)) {
        return 0;
    }
    switch (k) {
    case FPU_K_ADD:
        r = fa + fb;
        break;
    case FPU_K_SUB:
        r = fa - fb;
        break;
    case FPU_K_MUL:
        r = fa * fb;
        break;
    case FPU_K_DIV:
        if (fpu_is_zero(1, b)) {
            return 0;
        }
        r = fa / fb;
        break;
    case FPU_K_SQRT:
        if (a & F64_SIGN) {
            return 0;
        }
        r = sqrt(fa);
        break;
    case FPU_K_FMA:
    default:
        r = fma(fa, fb, fpu_f64(c));
        break;
    }
    if (!(fabs(r) > DBL_MIN && fabs(r) <= DBL_MAX)) {
        return 0;
    }
    *res = fpu_f64_bits(r);
    return 1;
}

static uint32_t fpu_calc_f32(enum fpu_kind k, uint32_t a, uint32_t b,
                             uint32_t c, unsigned rm, unsigned *fflags)
{
    float fa = fpu_f32(a), fb = fpu_f32(b), fc = fpu_f32(c);
    unsigned hrm = rm == RV_RM_RMM ? RV_RM_RNE : rm; /* RMM: see above */
    unsigned fl;
    uint32_t r;

    assert(rm <= RV_RM_RMM);
    if (rm == RV_RM_RNE && (*fflags & RV_FFLAG_NX) &&
        fpu_fast_f32(k, a, b, c, &r)) {
        return r;
    }
    fpu_host_begin(hrm);
    r = fpu_f32_bits(fpu_host_f32(k, fa, fb, fc));
    fl = fpu_host_end(hrm);
    *fflags |= fl;
    if (fpu_is_nan(0, r)) {
        return RV_F32_CANON_NAN;
    }
    if (rm == RV_RM_RMM && (fl & RV_FFLAG_NX) && !fpu_is_inf(0, r) &&
        k != FPU_K_SQRT) {
        r = fpu_rmm_f32(k, fa, fb, fc, r);
    }
    return r;
}

static uint64_t fpu_calc_f64(enum fpu_kind k, uint64_t a, uint64_t b,
                             uint64_t c, unsigned rm, unsigned *fflags)
{
    double fa = fpu_f64(a), fb = fpu_f64(b), fc = fpu_f64(c);
    unsigned hrm = rm == RV_RM_RMM ? RV_RM_RNE : rm; /* RMM: see above */
    unsigned fl;
    uint64_t r;

    assert(rm <= RV_RM_RMM);
    if (rm == RV_RM_RNE && (*fflags & RV_FFLAG_NX) &&
        fpu_fast_f64(k, a, b, c, &r)) {
        return r;
    }
    fpu_host_begin(hrm);
    r = fpu_f64_bits(fpu_host_f64(k, fa, fb, fc));
    fl = fpu_host_end(hrm);
    *fflags |= fl;
    if (fpu_is_nan(1, r)) {
        return RV_F64_CANON_NAN;
    }
    if (rm == RV_RM_RMM && (fl & RV_FFLAG_NX) && !fpu_is_inf(1, r) &&
        k != FPU_K_SQRT) {
        r = fpu_rmm_f64(k, fa, fb, fc, r);
    }
    return r;
}

static uint64_t fpu_calc(int d, enum fpu_kind k, uint64_t a, uint64_t b,
                         uint64_t c, unsigned rm, unsigned *fflags)
{
    if (d) {
        return fpu_calc_f64(k, a, b, c, rm, fflags);
    }
    return fpu_calc_f32(k, (uint32_t)a, (uint32_t)b, (uint32_t)c, rm, fflags);
}

/* Order on non-NaN bit patterns with -0 < +0, as min/max need. */
static int fpu_lt(int d, uint64_t a, uint64_t b)
{
    int sa = !!(a & fpu_sign(d)), sb = !!(b & fpu_sign(d));

    if (sa != sb) {
        return sa;
    }
    return sa ? a > b : a < b;
}

/* IEEE 754-2019 minimumNumber/maximumNumber, as F since spec 2.2. */
static uint64_t fpu_minmax(int d, int is_max, uint64_t a, uint64_t b,
                           unsigned *fflags)
{
    int an = fpu_is_nan(d, a), bn = fpu_is_nan(d, b);

    if (fpu_is_snan(d, a) || fpu_is_snan(d, b)) {
        *fflags |= RV_FFLAG_NV;
    }
    if (an && bn) {
        return fpu_canon(d);
    }
    if (an) {
        return b;
    }
    if (bn) {
        return a;
    }
    if (is_max) {
        return fpu_lt(d, b, a) ? a : b;
    }
    return fpu_lt(d, a, b) ? a : b;
}

/* Operands are unboxed singles or doubles; returns unboxed bits. */
static uint64_t fpu_op_bits(int d, enum rv_fop op, uint64_t a, uint64_t b,
                            unsigned rm, unsigned *fflags)
{
    uint64_t sign = fpu_sign(d);

    switch (op) {
    case RV_FADD:
        return fpu_calc(d, FPU_K_ADD, a, b, 0, rm, fflags);
    case RV_FSUB:
        return fpu_calc(d, FPU_K_SUB, a, b, 0, rm, fflags);
    case RV_FMUL:
        return fpu_calc(d, FPU_K_MUL, a, b, 0, rm, fflags);
    case RV_FDIV:
        return fpu_calc(d, FPU_K_DIV, a, b, 0, rm, fflags);
    case RV_FMIN:
        return fpu_minmax(d, 0, a, b, fflags);
    case RV_FMAX:
        return fpu_minmax(d, 1, a, b, fflags);
    case RV_FSGNJ:
        return (a & ~sign) | (b & sign);
    case RV_FSGNJN:
        return (a & ~sign) | (~b & sign);
    case RV_FSGNJX:
        return a ^ (b & sign);
    }
    assert(0 && "bad rv_fop");
    return fpu_canon(d);
}

uint64_t rv_fpu_op(int is_double, enum rv_fop op, uint64_t a, uint64_t b,
                   unsigned rm, unsigned *fflags)
{
    if (is_double) {
        return fpu_op_bits(1, op, a, b, rm, fflags);
    }
    return RV_NANBOX(
        fpu_op_bits(0, op, fpu_unbox(a), fpu_unbox(b), rm, fflags));
}

uint64_t rv_fpu_fma(int is_double, enum rv_fma_op op, uint64_t a, uint64_t b,
                    uint64_t c, unsigned rm, unsigned *fflags)
{
    int d = !!is_double;
    uint64_t sign = fpu_sign(d), r;

    if (!d) {
        a = fpu_unbox(a);
        b = fpu_unbox(b);
        c = fpu_unbox(c);
    }
    /*
     * The spec requires NV for inf*0 even when c is a quiet NaN, which
     * IEEE leaves open and the host does not do.
     */
    if ((fpu_is_inf(d, a) && fpu_is_zero(d, b)) ||
        (fpu_is_zero(d, a) && fpu_is_inf(d, b))) {
        *fflags |= RV_FFLAG_NV;
        r = fpu_canon(d);
    } else {
        /*
         * Negate the product through a and the addend through c, as
         * SoftFloat does: (-a)*b - c, not -(a*b + c), which differ in the
         * sign of an exact zero under RDN.
         */
        if (op == RV_FNMSUB || op == RV_FNMADD) {
            a ^= sign;
        }
        if (op == RV_FMSUB || op == RV_FNMADD) {
            c ^= sign;
        }
        r = fpu_calc(d, FPU_K_FMA, a, b, c, rm, fflags);
    }
    return d ? r : RV_NANBOX(r);
}

uint64_t rv_fpu_sqrt(int is_double, uint64_t a, unsigned rm, unsigned *fflags)
{
    if (is_double) {
        return fpu_calc(1, FPU_K_SQRT, a, 0, 0, rm, fflags);
    }
    return RV_NANBOX(fpu_calc(0, FPU_K_SQRT, fpu_unbox(a), 0, 0, rm, fflags));
}

uint64_t rv_fpu_cmp(int is_double, enum rv_fcmp op, uint64_t a, uint64_t b,
                    unsigned *fflags)
{
    int d = !!is_double;
    int eq, lt;

    if (!d) {
        a = fpu_unbox(a);
        b = fpu_unbox(b);
    }
    if (fpu_is_nan(d, a) || fpu_is_nan(d, b)) {
        if (op != RV_FEQ || fpu_is_snan(d, a) || fpu_is_snan(d, b)) {
            *fflags |= RV_FFLAG_NV;
        }
        return 0;
    }
    eq = a == b || (fpu_is_zero(d, a) && fpu_is_zero(d, b));
    lt = !eq && fpu_lt(d, a, b);
    switch (op) {
    case RV_FEQ:
        return eq;
    case RV_FLT:
        return lt;
    case RV_FLE:
        return lt || eq;
    }
    assert(0 && "bad rv_fcmp");
    return 0;
}

uint64_t rv_fpu_class(int is_double, uint64_t a)
{
    int d = !!is_double;
    int neg;
    uint64_t mag, expmask;

    if (!d) {
        a = fpu_unbox(a);
    }
    neg = !!(a & fpu_sign(d));
    mag = a & ~fpu_sign(d);
    expmask = fpu_inf(d);
    if (fpu_is_nan(d, a)) {
        return fpu_is_snan(d, a) ? 1u << 8 : 1u << 9;
    }
    if (mag == expmask) {
        return neg ? 1u << 0 : 1u << 7;
    }
    if (mag == 0) {
        return neg ? 1u << 3 : 1u << 4;
    }
    if ((mag & expmask) == 0) {
        return neg ? 1u << 2 : 1u << 5;
    }
    return neg ? 1u << 1 : 1u << 6;
}

/*
 * Rounds to an integral value in rm. Library functions, not the host
 * rounding mode: none of them depends on it, and their flags are not used.
 */
static double fpu_round_integral(double x, unsigned rm)
{
    double r;

    switch (rm) {
    case RV_RM_RTZ:
        return trunc(x);
    case RV_RM_RDN:
        return floor(x);
    case RV_RM_RUP:
        return ceil(x);
    case RV_RM_RMM:
        return round(x);
    default:
        /* Ties away, then back to the even neighbour; exact since ties
         * only exist below 2^52. */
        r = round(x);
        if (fabs(r - x) == 0.5 && fmod(r, 2.0) != 0) {
            r -= copysign(1.0, x);
        }
        return r;
    }
}

uint64_t rv_fpu_to_int(int is_double, enum rv_fint to, uint64_t a, unsigned rm,
                       unsigned *fflags)
{
    /* Saturation bounds: the rounded value must lie in [lo, hi]. */
    static const double lo[] = {
        [RV_FINT_W] = -2147483648.0,
        [RV_FINT_WU] = 0.0,
        [RV_FINT_L] = -9223372036854775808.0,
        [RV_FINT_LU] = 0.0,
    };
    static const double hi_excl[] = {
        [RV_FINT_W] = 2147483648.0,
        [RV_FINT_WU] = 4294967296.0,
        [RV_FINT_L] = 9223372036854775808.0,
        [RV_FINT_LU] = 18446744073709551616.0,
    };
    /* Results as the 64-bit register holds them (W, WU sign-extended). */
    static const uint64_t min_res[] = {
        [RV_FINT_W] = 0xffffffff80000000ull,
        [RV_FINT_WU] = 0,
        [RV_FINT_L] = 0x8000000000000000ull,
        [RV_FINT_LU] = 0,
    };
    static const uint64_t max_res[] = {
        [RV_FINT_W] = 0x000000007fffffffull,
        [RV_FINT_WU] = 0xffffffffffffffffull,
        [RV_FINT_L] = 0x7fffffffffffffffull,
        [RV_FINT_LU] = 0xffffffffffffffffull,
    };
    int d = !!is_double;
    double x, r;

    assert(rm <= RV_RM_RMM && (unsigned)to <= RV_FINT_LU);
    if (!d) {
        a = fpu_unbox(a);
    }
    if (fpu_is_nan(d, a)) {
        *fflags |= RV_FFLAG_NV;
        return max_res[to];
    }
    x = d ? fpu_f64(a) : (double)fpu_f32((uint32_t)a);
    r = fpu_round_integral(x, rm);
    if (r < lo[to]) {
        *fflags |= RV_FFLAG_NV;
        return min_res[to];
    }
    if (r >= hi_excl[to]) {
        *fflags |= RV_FFLAG_NV;
        return max_res[to];
    }
    if (r != x) {
        *fflags |= RV_FFLAG_NX;
    }
    switch (to) {
    case RV_FINT_W:
        return (uint64_t)(int64_t)(int32_t)r;
    case RV_FINT_WU:
        return (uint64_t)(int64_t)(int32_t)(uint32_t)r;
    case RV_FINT_L:
        return (uint64_t)(int64_t)r;
    case RV_FINT_LU:
        break;
    }
    return (uint64_t)r;
}

/*
 * Integer to float in software: the magnitude is cut to p bits and rounded
 * with its exact remainder, which gives RMM for free and needs no host
 * state. No integer overflows a single.
 */
uint64_t rv_fpu_from_int(int is_double, enum rv_fint from, uint64_t x,
                         unsigned rm, unsigned *fflags)
{
    int d = !!is_double;
    unsigned p = d ? 53 : 24;
    unsigned bias = d ? 1023 : 127;
    int neg = 0;
    uint64_t u, q, r;
    unsigned h;

    assert(rm <= RV_RM_RMM);
    switch (from) {
    case RV_FINT_W:
        neg = (int32_t)x < 0;
        u = neg ? -(uint64_t)(int64_t)(int32_t)x : (uint32_t)x;
        break;
    case RV_FINT_WU:
        u = (uint32_t)x;
        break;
    case RV_FINT_L:
        neg = (int64_t)x < 0;
        u = neg ? -x : x;
        break;
    case RV_FINT_LU:
    default:
        u = x;
        break;
    }
    if (u == 0) {
        r = 0;
    } else {
        h = 63 - (unsigned)__builtin_clzll(u);
        if (h < p) {
            q = u << (p - 1 - h);
        } else {
            unsigned s = h - (p - 1);
            uint64_t rem = u & ((1ull << s) - 1), half = 1ull << (s - 1);
            int up = 0;

            q = u >> s;
            if (rem) {
                *fflags |= RV_FFLAG_NX;
                switch (rm) {
                case RV_RM_RNE:
                    up = rem > half || (rem == half && (q & 1));
                    break;
                case RV_RM_RDN:
                    up = neg;
                    break;
                case RV_RM_RUP:
                    up = !neg;
                    break;
                case RV_RM_RMM:
                    up = rem >= half;
                    break;
                default:
                    break;
                }
                q += up;
                if (q >> p) {
                    q >>= 1;
                    h++;
                }
            }
        }
        r = ((uint64_t)(h + bias) << (p - 1)) | (q & ((1ull << (p - 1)) - 1));
        if (neg) {
            r |= fpu_sign(d);
        }
    }
    return d ? r : RV_NANBOX(r);
}

uint64_t rv_fpu_cvt_fmt(int to_double, uint64_t a, unsigned rm,
                        unsigned *fflags)
{
    volatile double vd;
    volatile float vf;
    unsigned hrm = rm == RV_RM_RMM ? RV_RM_RNE : rm;
    uint32_t r;
    unsigned fl;

    assert(rm <= RV_RM_RMM);
    if (to_double) {
        uint32_t s = fpu_unbox(a);

        if (fpu_is_nan(0, s)) {
            if (fpu_is_snan(0, s)) {
                *fflags |= RV_FFLAG_NV;
            }
            return RV_F64_CANON_NAN;
        }
        return fpu_f64_bits((double)fpu_f32(s)); /* exact */
    }
    if (fpu_is_nan(1, a)) {
        if (fpu_is_snan(1, a)) {
            *fflags |= RV_FFLAG_NV;
        }
        return RV_NANBOX(RV_F32_CANON_NAN);
    }
    vd = fpu_f64(a);
    fpu_host_begin(hrm);
    vf = (float)vd;
    fl = fpu_host_end(hrm);
    *fflags |= fl;
    r = fpu_f32_bits(vf);
    /* The double is the exact value, so the tie check needs no wide op. */
    if (rm == RV_RM_RMM && (fl & RV_FFLAG_NX) && !fpu_is_inf(0, r)) {
        uint32_t away = r + 1;
        double mid = ((double)fpu_f32(r) + (double)fpu_f32(away)) / 2;

        if (fpu_f64(a) == mid) {
            r = away;
        }
    }
    return RV_NANBOX(r);
}
