/* SPDX-License-Identifier: MIT */
/*
 * The F and D extensions' arithmetic (RISC-V unprivileged spec chapters
 * "F" and "D"): IEEE 754-2008 operations on raw register bit patterns with
 * an explicit rounding mode, accumulating exception flags. NaN-boxing of
 * single values in 64-bit registers, canonical NaNs, RISC-V's min/max and
 * saturating conversions are handled here, so the executor only moves bits.
 *
 * Conventions: a single-precision input is a 64-bit register value; if it
 * is not properly NaN-boxed (upper 32 bits all ones) it reads as the
 * canonical NaN. Single results are returned NaN-boxed. rm is an already
 * resolved rounding mode (RV_RM_RNE..RV_RM_RMM; the executor resolves DYN
 * from frm and raises illegal-instruction for reserved modes). *fflags is
 * OR-ed with RV_FFLAG_* bits. Pure functions, any thread.
 */
#ifndef SWEDE_CPU_RISCV_FPU_H
#define SWEDE_CPU_RISCV_FPU_H

#include <stdint.h>

enum rv_rm {
    RV_RM_RNE = 0,
    RV_RM_RTZ = 1,
    RV_RM_RDN = 2,
    RV_RM_RUP = 3,
    RV_RM_RMM = 4,
    RV_RM_DYN = 7,
};

#define RV_FFLAG_NX 0x01u /* inexact */
#define RV_FFLAG_UF 0x02u /* underflow */
#define RV_FFLAG_OF 0x04u /* overflow */
#define RV_FFLAG_DZ 0x08u /* divide by zero */
#define RV_FFLAG_NV 0x10u /* invalid */

#define RV_F32_CANON_NAN 0x7fc00000u
#define RV_F64_CANON_NAN 0x7ff8000000000000ull
#define RV_NANBOX(x)     (0xffffffff00000000ull | (uint32_t)(x))

enum rv_fop {
    RV_FADD,
    RV_FSUB,
    RV_FMUL,
    RV_FDIV,
    RV_FMIN,
    RV_FMAX,
    RV_FSGNJ,
    RV_FSGNJN,
    RV_FSGNJX,
};

enum rv_fma_op {
    RV_FMADD,  /*  a*b + c */
    RV_FMSUB,  /*  a*b - c */
    RV_FNMSUB, /* -a*b + c */
    RV_FNMADD, /* -a*b - c */
};

enum rv_fcmp {
    RV_FEQ,
    RV_FLT,
    RV_FLE,
};

/* Integer formats for conversions. */
enum rv_fint {
    RV_FINT_W,  /* int32, results sign-extended to 64 bits */
    RV_FINT_WU, /* uint32, results sign-extended to 64 bits (as RV64 does) */
    RV_FINT_L,  /* int64 */
    RV_FINT_LU, /* uint64 */
};

/* is_double selects D (1) or F (0) for every function below. */
uint64_t rv_fpu_op(int is_double, enum rv_fop op, uint64_t a, uint64_t b,
                   unsigned rm, unsigned *fflags);
uint64_t rv_fpu_fma(int is_double, enum rv_fma_op op, uint64_t a, uint64_t b,
                    uint64_t c, unsigned rm, unsigned *fflags);
uint64_t rv_fpu_sqrt(int is_double, uint64_t a, unsigned rm, unsigned *fflags);
/* Returns 0 or 1 (for the integer register). FEQ raises NV only for
 * signalling NaNs; FLT/FLE for any NaN. */
uint64_t rv_fpu_cmp(int is_double, enum rv_fcmp op, uint64_t a, uint64_t b,
                    unsigned *fflags);
/* FCLASS: the 10-bit class mask. */
uint64_t rv_fpu_class(int is_double, uint64_t a);
/* FCVT.{W,WU,L,LU}.{S,D}: saturating; NaN gives the maximum. */
uint64_t rv_fpu_to_int(int is_double, enum rv_fint to, uint64_t a, unsigned rm,
                       unsigned *fflags);
/* FCVT.{S,D}.{W,WU,L,LU}: x is the integer register value. */
uint64_t rv_fpu_from_int(int is_double, enum rv_fint from, uint64_t x,
                         unsigned rm, unsigned *fflags);
/* FCVT.S.D (to_double = 0) and FCVT.D.S (to_double = 1). */
uint64_t rv_fpu_cvt_fmt(int to_double, uint64_t a, unsigned rm,
                        unsigned *fflags);

#endif
