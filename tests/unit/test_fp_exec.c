/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the F and D instructions as the executor runs them
 * (src/cpu/riscv/exec.c): the arithmetic itself is tested in test_fpu.c;
 * here, what the unprivileged spec's F/D chapters put around it: NaN-
 * boxing on FLW and FMV.W.X and of single results, improperly boxed
 * inputs reading as the canonical NaN, FMV.X.W sign extension,
 * mstatus.FS = Off making every F/D instruction illegal and FS becoming
 * Dirty, the rounding-mode field (static modes, DYN taken from frm,
 * reserved modes and a reserved frm raising illegal-instruction), and
 * fflags accumulating in fcsr.
 */
#include "cpu/riscv/fpu.h"
#include "harness.h"
#include "rvtest.h"

#define FOP(f5, fmt, rm, rd, rs1, rs2) \
    enc_r(0x53, rd, rm, rs1, rs2, ((f5) << 2) | (fmt))
#define FADD_S(rd, a, b, rm)     FOP(0x00, 0, rm, rd, a, b)
#define FDIV_S(rd, a, b, rm)     FOP(0x03, 0, rm, rd, a, b)
#define FSQRT_S(rd, a, rm)       FOP(0x0b, 0, rm, rd, a, 0)
#define FSGNJ_S(rd, a, b)        FOP(0x04, 0, 0, rd, a, b)
#define FCVT_W_S(rd, a, rm)      FOP(0x18, 0, rm, rd, a, 0)
#define FCVT_WU_S(rd, a, rm)     FOP(0x18, 0, rm, rd, a, 1)
#define FCVT_L_D(rd, a, rm)      FOP(0x18, 1, rm, rd, a, 2)
#define FCVT_S_W(rd, a, rm)      FOP(0x1a, 0, rm, rd, a, 0)
#define FCVT_S_D(rd, a, rm)      FOP(0x08, 0, rm, rd, a, 1)
#define FCVT_D_S(rd, a, rm)      FOP(0x08, 1, rm, rd, a, 0)
#define FMV_X_W(rd, a)           FOP(0x1c, 0, 0, rd, a, 0)
#define FCLASS_S(rd, a)          FOP(0x1c, 0, 1, rd, a, 0)
#define FMV_W_X(rd, a)           FOP(0x1e, 0, 0, rd, a, 0)
#define FEQ_S(rd, a, b)          FOP(0x14, 0, 2, rd, a, b)
#define FMADD_S(rd, a, b, c, rm) enc_r4(0x43, rd, rm, a, b, 0, c)
#define FLW(rd, rs1, imm)        enc_i(0x07, rd, 2, rs1, imm)
#define FLD(rd, rs1, imm)        enc_i(0x07, rd, 3, rs1, imm)
#define FSW(rs2, rs1, imm)       enc_s(0x27, 2, rs1, rs2, imm)
#define FSD(rs2, rs1, imm)       enc_s(0x27, 3, rs1, rs2, imm)

#define RNE 0
#define RTZ 1
#define RDN 2
#define RUP 3
#define RMM 4
#define DYN 7

#define BOX(x)     (0xffffffff00000000ull | (uint32_t)(x))
#define S_ONE      0x3f800000u
#define S_2_5      0x40200000u
#define S_M2_5     0xc0200000u
#define S_CANON    0x7fc00000u
#define D_ONE      0x3ff0000000000000ull
#define FS_DIRTY   MSTATUS_FS
#define FS_INITIAL (1ull << MSTATUS_FS_SHIFT)

/* Run one instruction in M with FS = fs; true if it did not trap. */
static bool run1(struct rvt *t, uint32_t insn, uint64_t fs)
{
    rvt_load(t, RVT_CODE, &insn, 1);
    t->h->pc = RVT_CODE;
    rv_set_priv(t->h, RV_PRIV_M);
    t->h->mstatus = (t->h->mstatus & ~MSTATUS_FS) | fs;
    CHECK(rvt_run(t, 10));
    return t->h->pc == RVT_CODE + 4;
}

TEST(nan_boxing)
{
    struct rvt t;
    rvt_init(&t);
    /* flw boxes */
    rvt_write64(&t, RVT_DATA, 0x12345678u | (0xabcdefull << 32));
    t.h->x[1] = RVT_DATA;
    CHECK(run1(&t, FLW(1, 1, 0), FS_DIRTY));
    CHECK_EQ(t.h->f[1], BOX(0x12345678u));
    /* fld does not */
    CHECK(run1(&t, FLD(2, 1, 0), FS_DIRTY));
    CHECK_EQ(t.h->f[2], 0x00abcdef12345678ull);
    /* fmv.w.x boxes the low word of x */
    t.h->x[2] = 0x123456783f800000ull;
    CHECK(run1(&t, FMV_W_X(3, 2), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(S_ONE));
    /* fmv.x.w sign-extends the low word, boxed or not */
    t.h->f[4] = BOX(0xbf800000u);
    CHECK(run1(&t, FMV_X_W(5, 4), FS_DIRTY));
    CHECK_EQ(t.h->x[5], 0xffffffffbf800000ull);
    t.h->f[4] = 0x000000007f800000ull;
    CHECK(run1(&t, FMV_X_W(5, 4), FS_DIRTY));
    CHECK_EQ(t.h->x[5], 0x7f800000ull);
    /* fsw stores the low word */
    t.h->f[6] = 0x1122334455667788ull;
    rvt_write64(&t, RVT_DATA + 8, 0);
    CHECK(run1(&t, FSW(6, 1, 8), FS_DIRTY));
    CHECK_EQ(rvt_read64(&t, RVT_DATA + 8), 0x55667788ull);
    CHECK(run1(&t, FSD(6, 1, 8), FS_DIRTY));
    CHECK_EQ(rvt_read64(&t, RVT_DATA + 8), 0x1122334455667788ull);
    /* single results are boxed */
    t.h->f[1] = BOX(S_ONE);
    t.h->f[2] = BOX(S_ONE);
    CHECK(run1(&t, FADD_S(3, 1, 2, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(0x40000000u));
    /* an improperly boxed input is the canonical NaN */
    t.h->f[1] = S_ONE; /* upper half zero */
    CHECK(run1(&t, FADD_S(3, 1, 2, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(S_CANON));
    CHECK(run1(&t, FCLASS_S(4, 1), FS_DIRTY));
    CHECK_EQ(t.h->x[4], 1u << 9);      /* quiet NaN */
    t.h->f[1] = 0xfffffffe3f800000ull; /* one upper bit clear */
    CHECK(run1(&t, FCLASS_S(4, 1), FS_DIRTY));
    CHECK_EQ(t.h->x[4], 1u << 9);
    /* fcvt.d.s reads a boxed single; fcvt.s.d writes a boxed one */
    t.h->f[1] = BOX(S_ONE);
    CHECK(run1(&t, FCVT_D_S(2, 1, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[2], D_ONE);
    CHECK(run1(&t, FCVT_S_D(3, 2, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(S_ONE));
    /* fsgnj.s of a boxed value keeps the box */
    t.h->f[1] = BOX(S_ONE);
    t.h->f[2] = BOX(0x80000000u);
    CHECK(run1(&t, FSGNJ_S(3, 1, 2), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(0xbf800000u));
    rvt_free(&t);
}

TEST(fs_off_is_illegal)
{
    const uint32_t insns[] = {
        FLW(1, 1, 0),        FLD(1, 1, 0),          FSW(1, 1, 0),
        FSD(1, 1, 0),        FADD_S(1, 2, 3, RNE),  FSQRT_S(1, 2, RNE),
        FSGNJ_S(1, 2, 3),    FCVT_W_S(1, 2, RTZ),   FCVT_S_W(1, 2, RNE),
        FCVT_D_S(1, 2, RNE), FMV_X_W(1, 2),         FMV_W_X(1, 2),
        FCLASS_S(1, 2),      FEQ_S(1, 2, 3),        FMADD_S(1, 2, 3, 4, RNE),
        I_CSRR(1, 0x003),    I_CSRRWI(0, 0x002, 1),
    };
    struct rvt t;
    rvt_init(&t);
    t.h->x[1] = RVT_DATA;
    for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        t.h->f[1] = 0x5a5a;
        t.h->x[5] = 0;
        CHECK(!run1(&t, insns[i], 0));
        CHECK(rvt_in_mtrap(&t));
        CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
        CHECK_EQ(t.h->mtval, insns[i]);
        CHECK_EQ(t.h->f[1], 0x5a5a);
        CHECK_EQ(t.h->mstatus & MSTATUS_FS, 0);
    }
    /* from U and S as well */
    uint32_t w = FADD_S(1, 2, 3, RNE);
    rvt_load(&t, RVT_CODE, &w, 1);
    t.h->pc = RVT_CODE;
    t.h->mstatus &= ~MSTATUS_FS;
    rv_set_priv(t.h, RV_PRIV_U);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    rvt_free(&t);
}

TEST(fs_becomes_dirty)
{
    struct rvt t;
    rvt_init(&t);
    t.h->f[1] = BOX(S_ONE);
    CHECK(run1(&t, FADD_S(3, 1, 1, RNE), FS_INITIAL));
    CHECK_EQ(t.h->mstatus & MSTATUS_FS, FS_DIRTY);
    t.h->x[1] = RVT_DATA;
    CHECK(run1(&t, FLW(3, 1, 0), FS_INITIAL));
    CHECK_EQ(t.h->mstatus & MSTATUS_FS, FS_DIRTY);
    CHECK(run1(&t, FMV_W_X(3, 1), 2ull << MSTATUS_FS_SHIFT)); /* Clean */
    CHECK_EQ(t.h->mstatus & MSTATUS_FS, FS_DIRTY);
    /* SD reads as set */
    CHECK(run1(&t, I_CSRR(4, 0x300), FS_DIRTY));
    CHECK(t.h->x[4] & MSTATUS_SD);
    rvt_free(&t);
}

/* fcvt.w.s of +-2.5 tells the five rounding modes apart. */
TEST(rounding_modes)
{
    static const struct {
        unsigned rm;
        int64_t pos, neg;
    } m[] = {
        { RNE, 2, -2 }, { RTZ, 2, -2 }, { RDN, 2, -3 },
        { RUP, 3, -2 }, { RMM, 3, -3 },
    };
    struct rvt t;
    rvt_init(&t);
    t.h->f[1] = BOX(S_2_5);
    t.h->f[2] = BOX(S_M2_5);
    for (unsigned i = 0; i < 5; i++) {
        /* static rounding mode, frm set to something else */
        t.h->frm = (m[i].rm + 1) % 5;
        CHECK(run1(&t, FCVT_W_S(3, 1, m[i].rm), FS_DIRTY));
        CHECK_EQ(t.h->x[3], (uint64_t)m[i].pos);
        CHECK(run1(&t, FCVT_W_S(3, 2, m[i].rm), FS_DIRTY));
        CHECK_EQ(t.h->x[3], (uint64_t)m[i].neg);
        /* DYN: frm, written through the CSR */
        t.h->x[5] = m[i].rm;
        CHECK(run1(&t, I_CSRW(0x002, 5), FS_DIRTY));
        CHECK(run1(&t, FCVT_W_S(3, 1, DYN), FS_DIRTY));
        CHECK_EQ(t.h->x[3], (uint64_t)m[i].pos);
        CHECK(run1(&t, FCVT_W_S(3, 2, DYN), FS_DIRTY));
        CHECK_EQ(t.h->x[3], (uint64_t)m[i].neg);
        CHECK_EQ(t.h->fflags & RV_FFLAG_NX, RV_FFLAG_NX);
    }
    /* DYN for an FMA: 1 * 1 + 2^-24 (exactly halfway) rounds to even
     * under RNE, up under RUP */
    t.h->f[1] = BOX(S_ONE);
    t.h->f[2] = BOX(0x33800000u); /* 2^-24 */
    t.h->frm = RNE;
    CHECK(run1(&t, FMADD_S(3, 1, 1, 2, DYN), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(S_ONE));
    t.h->frm = RUP;
    CHECK(run1(&t, FMADD_S(3, 1, 1, 2, DYN), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(0x3f800001u));
    rvt_free(&t);
}

TEST(reserved_rounding_modes)
{
    struct rvt t;
    rvt_init(&t);
    t.h->f[1] = BOX(S_2_5);
    t.h->f[2] = BOX(S_ONE);
    /* static rm 5 and 6 are reserved */
    for (unsigned rm = 5; rm <= 6; rm++) {
        const uint32_t insns[] = {
            FADD_S(3, 1, 2, rm), FCVT_W_S(3, 1, rm), FCVT_S_W(3, 1, rm),
            FSQRT_S(3, 1, rm),   FCVT_D_S(3, 1, rm), FMADD_S(3, 1, 2, 2, rm),
        };
        for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
            t.h->f[3] = 0x77;
            CHECK(!run1(&t, insns[i], FS_DIRTY));
            CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
            CHECK_EQ(t.h->mtval, insns[i]);
            CHECK_EQ(t.h->f[3], 0x77);
        }
    }
    /* DYN with frm = 5, 6 or 7 is illegal; frm itself holds the value */
    for (unsigned frm = 5; frm <= 7; frm++) {
        t.h->x[5] = frm;
        CHECK(run1(&t, I_CSRW(0x002, 5), FS_DIRTY));
        CHECK_EQ(t.h->frm, frm);
        CHECK(!run1(&t, FADD_S(3, 1, 2, DYN), FS_DIRTY));
        CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
        CHECK(!run1(&t, FCVT_W_S(3, 1, DYN), FS_DIRTY));
        CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
        /* a static mode works regardless of frm */
        CHECK(run1(&t, FCVT_W_S(3, 1, RTZ), FS_DIRTY));
        CHECK_EQ(t.h->x[3], 2);
        /* and instructions without a rounding mode too */
        CHECK(run1(&t, FSGNJ_S(3, 1, 2), FS_DIRTY));
        CHECK(run1(&t, FEQ_S(3, 1, 1), FS_DIRTY));
        CHECK_EQ(t.h->x[3], 1);
    }
    rvt_free(&t);
}

TEST(fflags_accumulate)
{
    struct rvt t;
    rvt_init(&t);
    t.h->x[5] = 0;
    CHECK(run1(&t, I_CSRW(0x003, 5), FS_DIRTY));
    /* 1 / 0: DZ */
    t.h->f[1] = BOX(S_ONE);
    t.h->f[2] = BOX(0);
    CHECK(run1(&t, FDIV_S(3, 1, 2, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(0x7f800000u));
    CHECK(run1(&t, I_CSRR(4, 0x001), FS_DIRTY));
    CHECK_EQ(t.h->x[4], RV_FFLAG_DZ);
    /* 1 + 1e-10: NX, added to DZ */
    t.h->f[2] = BOX(0x2edbe6ffu);
    CHECK(run1(&t, FADD_S(3, 1, 2, RNE), FS_DIRTY));
    CHECK(run1(&t, I_CSRR(4, 0x003), FS_DIRTY));
    CHECK_EQ(t.h->x[4], RV_FFLAG_DZ | RV_FFLAG_NX);
    /* sqrt(-1): NV; fcsr keeps frm in bits 7:5 */
    t.h->x[5] = RUP;
    CHECK(run1(&t, I_CSRW(0x002, 5), FS_DIRTY));
    t.h->f[1] = BOX(0xbf800000u);
    CHECK(run1(&t, FSQRT_S(3, 1, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(S_CANON));
    CHECK(run1(&t, I_CSRR(4, 0x003), FS_DIRTY));
    CHECK_EQ(t.h->x[4], (RUP << 5) | RV_FFLAG_DZ | RV_FFLAG_NX | RV_FFLAG_NV);
    /* an exact operation adds nothing; clearing fflags works */
    t.h->f[1] = BOX(S_ONE);
    CHECK(run1(&t, FADD_S(3, 1, 1, RNE), FS_DIRTY));
    CHECK(run1(&t, I_CSRRW(4, 0x001, 0), FS_DIRTY));
    CHECK_EQ(t.h->x[4], RV_FFLAG_DZ | RV_FFLAG_NX | RV_FFLAG_NV);
    CHECK_EQ(t.h->fflags, 0);
    CHECK_EQ(t.h->frm, RUP);
    rvt_free(&t);
}

/* Conversions to integers: NaN and out-of-range saturate with NV, W
 * results are sign-extended to 64 bits. */
TEST(conversions_to_int)
{
    struct rvt t;
    rvt_init(&t);
    t.h->fflags = 0;
    t.h->f[1] = BOX(S_CANON);
    CHECK(run1(&t, FCVT_W_S(3, 1, RTZ), FS_DIRTY));
    CHECK_EQ(t.h->x[3], 0x7fffffff);
    CHECK_EQ(t.h->fflags, RV_FFLAG_NV);
    t.h->fflags = 0;
    t.h->f[1] = BOX(0xbf800000u); /* -1.0 */
    CHECK(run1(&t, FCVT_WU_S(3, 1, RTZ), FS_DIRTY));
    CHECK_EQ(t.h->x[3], 0);
    CHECK_EQ(t.h->fflags, RV_FFLAG_NV);
    t.h->fflags = 0;
    t.h->f[1] = BOX(0x4f7fffffu); /* 4294967040.0 */
    CHECK(run1(&t, FCVT_WU_S(3, 1, RTZ), FS_DIRTY));
    CHECK_EQ(t.h->x[3], 0xffffffffffffff00ull); /* sign-extended */
    CHECK_EQ(t.h->fflags, 0);
    t.h->f[1] = BOX(0xcf000000u); /* -2^31 */
    CHECK(run1(&t, FCVT_W_S(3, 1, RTZ), FS_DIRTY));
    CHECK_EQ(t.h->x[3], 0xffffffff80000000ull);
    t.h->f[1] = 0x43e0000000000000ull; /* 2^63 as double */
    CHECK(run1(&t, FCVT_L_D(3, 1, RTZ), FS_DIRTY));
    CHECK_EQ(t.h->x[3], 0x7fffffffffffffffull);
    CHECK_EQ(t.h->fflags, RV_FFLAG_NV);
    /* int -> single */
    t.h->x[1] = 0xffffffff00000003ull; /* W source: low word only */
    CHECK(run1(&t, FCVT_S_W(3, 1, RNE), FS_DIRTY));
    CHECK_EQ(t.h->f[3], BOX(0x40400000u));
    rvt_free(&t);
}

int main(void)
{
    RUN(nan_boxing);
    RUN(fs_off_is_illegal);
    RUN(fs_becomes_dirty);
    RUN(rounding_modes);
    RUN(reserved_rounding_modes);
    RUN(fflags_accumulate);
    RUN(conversions_to_int);
    HARNESS_END();
}
