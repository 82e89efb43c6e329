/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the integer executor (src/cpu/riscv/exec.c): RV64I, M,
 * Zba, Zbb and Zbs results, run as real instructions on a one-hart test
 * machine. Corner cases from the unprivileged spec: division by zero and
 * INT_MIN / -1 (M chapter, table "Semantics for division by zero and
 * division overflow"), 32-bit W forms sign-extending their result and
 * using only the low 5 bits of shift amounts, shifts by >= 32, clz/ctz/cpop
 * of zero, load sign/zero extension, branches and jumps, and x0.
 */
#include "harness.h"
#include "rvtest.h"

/* rd = x3, rs1 = x1, rs2 = x2. */
#define R(op, f3, f7)     enc_r(op, 3, f3, 1, 2, f7)
#define I(op, f3, imm)    enc_i(op, 3, f3, 1, imm)
#define OPR(f3, f7)       R(0x33, f3, f7)
#define OPW(f3, f7)       R(0x3b, f3, f7)
#define OPI(f3, imm)      I(0x13, f3, imm)
#define OPIW(f3, imm)     I(0x1b, f3, imm)
#define UNARY(f3, imm12)  I(0x13, f3, imm12)
#define UNARYW(f3, imm12) I(0x1b, f3, imm12)

#define M64  0xffffffffffffffffull
#define MIN  0x8000000000000000ull
#define SW32 0xffffffff80000000ull /* INT32_MIN sign-extended */

struct acase {
    const char *name;
    uint32_t insn;
    uint64_t a, b, want;
};

static const struct acase cases[] = {
    /* RV64I register-register */
    { "add wraps", OPR(0, 0), 0x7fffffffffffffffull, 1, MIN },
    { "sub", OPR(0, 0x20), 0, 1, M64 },
    { "sll uses 6 bits", OPR(1, 0), 1, 65, 2 },
    { "sll 63", OPR(1, 0), 1, 63, MIN },
    { "slt signed", OPR(2, 0), M64, 1, 1 },
    { "slt equal", OPR(2, 0), 5, 5, 0 },
    { "sltu unsigned", OPR(3, 0), M64, 1, 0 },
    { "sltu 0 < 1", OPR(3, 0), 0, 1, 1 },
    { "xor", OPR(4, 0), 0xff00, 0x0ff0, 0xf0f0 },
    { "srl 63", OPR(5, 0), MIN, 63, 1 },
    { "srl uses 6 bits", OPR(5, 0), 0x100, 68, 0x10 },
    { "sra 63", OPR(5, 0x20), MIN, 63, M64 },
    { "sra positive", OPR(5, 0x20), 0x4000000000000000ull, 62, 1 },
    { "or", OPR(6, 0), 0xf0, 0x0f, 0xff },
    { "and", OPR(7, 0), 0xf0, 0x3c, 0x30 },
    /* RV64I immediate */
    { "addi -1", OPI(0, -1), 0, 0, M64 },
    { "addi -2048", OPI(0, -2048), 0, 0, (uint64_t)-2048 },
    { "slti", OPI(2, -4), (uint64_t)-5, 0, 1 },
    { "slti false", OPI(2, -4), (uint64_t)-4, 0, 0 },
    { "sltiu sign-extended imm", OPI(3, -1), 5, 0, 1 },
    { "sltiu 0 (seqz)", OPI(3, 1), 0, 0, 1 },
    { "xori -1 (not)", OPI(4, -1), 0x1234, 0, ~0x1234ull },
    { "ori", OPI(6, 0x700), 0x0ff, 0, 0x7ff },
    { "andi sign-extended", OPI(7, -16), M64, 0, ~0xfull },
    { "slli 63", OPI(1, 63), 1, 0, MIN },
    { "srli 63", OPI(5, 63), MIN, 0, 1 },
    { "srai 63", OPI(5, 0x400 | 63), MIN, 0, M64 },
    { "srai 0", OPI(5, 0x400), MIN, 0, MIN },
    /* RV64I W forms: 32-bit result sign-extended */
    { "addiw overflow", OPIW(0, 1), 0x7fffffff, 0, SW32 },
    { "addiw 0 (sext.w)", OPIW(0, 0), 0xffffffff00000005ull, 0, 5 },
    { "addiw -1", OPIW(0, -1), 0, 0, M64 },
    { "slliw 31", OPIW(1, 31), 1, 0, SW32 },
    { "slliw drops high", OPIW(1, 1), 0x180000000ull, 0, 0 },
    { "srliw 31", OPIW(5, 31), SW32, 0, 1 },
    { "srliw 0 sign-extends", OPIW(5, 0), 0x80000000ull, 0, SW32 },
    { "srliw ignores high", OPIW(5, 4), 0xabcdef0000000100ull, 0, 0x10 },
    { "sraiw 31", OPIW(5, 0x400 | 31), 0x80000000ull, 0, M64 },
    { "sraiw uses bit 31", OPIW(5, 0x400 | 1), 0x0000000180000000ull, 0,
      0xffffffffc0000000ull },
    { "addw overflow", OPW(0, 0), 0x7fffffff, 1, SW32 },
    { "addw ignores high", OPW(0, 0), 0x1234567800000001ull,
      0x8765432100000002ull, 3 },
    { "subw", OPW(0, 0x20), 0, 0x80000000ull, SW32 },
    { "sllw by 32 is by 0", OPW(1, 0), 1, 32, 1 },
    { "sllw by 33 is by 1", OPW(1, 0), 1, 33, 2 },
    { "sllw 31", OPW(1, 0), 1, 31, SW32 },
    { "srlw by 32 is by 0", OPW(5, 0), 0x80000000ull, 32, SW32 },
    { "srlw by 63 is by 31", OPW(5, 0), 0x80000000ull, 63, 1 },
    { "sraw by 63 is by 31", OPW(5, 0x20), 0x80000000ull, 63, M64 },
    { "sraw by 0", OPW(5, 0x20), 0x123456787fffffffull, 0, 0x7fffffff },
    /* M */
    { "mul wraps", OPR(0, 1), M64, M64, 1 },
    { "mul", OPR(0, 1), 0x100000000ull, 0x100000000ull, 0 },
    { "mulh min*min", OPR(1, 1), MIN, MIN, 0x4000000000000000ull },
    { "mulh -1*1", OPR(1, 1), M64, 1, M64 },
    { "mulh -1*-1", OPR(1, 1), M64, M64, 0 },
    { "mulhsu -1*(2^64-1)", OPR(2, 1), M64, M64, M64 },
    { "mulhsu 2*2^63", OPR(2, 1), 2, MIN, 1 },
    { "mulhsu min*2", OPR(2, 1), MIN, 2, M64 },
    { "mulhu max*max", OPR(3, 1), M64, M64, 0xfffffffffffffffeull },
    { "mulhu 2^32*2^32", OPR(3, 1), 0x100000000ull, 0x100000000ull, 1 },
    { "div truncates", OPR(4, 1), 7, (uint64_t)-2, (uint64_t)-3 },
    { "div -7/2", OPR(4, 1), (uint64_t)-7, 2, (uint64_t)-3 },
    { "div by zero", OPR(4, 1), 42, 0, M64 },
    { "div by zero negative", OPR(4, 1), (uint64_t)-42, 0, M64 },
    { "div overflow", OPR(4, 1), MIN, M64, MIN },
    { "divu by zero", OPR(5, 1), 42, 0, M64 },
    { "divu", OPR(5, 1), M64, 2, 0x7fffffffffffffffull },
    { "rem sign of dividend", OPR(6, 1), (uint64_t)-7, 2, M64 },
    { "rem 7%-2", OPR(6, 1), 7, (uint64_t)-2, 1 },
    { "rem by zero", OPR(6, 1), (uint64_t)-42, 0, (uint64_t)-42 },
    { "rem overflow", OPR(6, 1), MIN, M64, 0 },
    { "remu by zero", OPR(7, 1), M64, 0, M64 },
    { "remu", OPR(7, 1), M64, 10, 5 },
    { "mulw sign-extends", OPW(0, 1), 0x7fffffff, 2, 0xfffffffffffffffeull },
    { "mulw ignores high", OPW(0, 1), 0xffffffff00000003ull,
      0x1234567800000005ull, 15 },
    { "divw overflow", OPW(4, 1), 0x80000000ull, M64, SW32 },
    { "divw by zero", OPW(4, 1), 5, 0xffffffff00000000ull, M64 },
    { "divw ignores high", OPW(4, 1), 0x0000000100000006ull,
      0xffffffff00000003ull, 2 },
    { "divw -6/4", OPW(4, 1), 0xfffffffa, 4, M64 },
    { "divuw", OPW(5, 1), 0xffffffff, 1, M64 },
    { "divuw by zero", OPW(5, 1), 5, 0x100000000ull, M64 },
    { "divuw 2^31/2", OPW(5, 1), 0x80000000ull, 2, 0x40000000 },
    { "remw overflow", OPW(6, 1), 0x80000000ull, M64, 0 },
    { "remw by zero", OPW(6, 1), 0x180000000ull, 0, SW32 },
    { "remw -7%2", OPW(6, 1), 0xfffffff9, 2, M64 },
    { "remuw by zero", OPW(7, 1), 0x180000000ull, 0, SW32 },
    { "remuw", OPW(7, 1), 0xfffffffe, 0xffffffff, 0xfffffffffffffffeull },
    /* Zba */
    { "sh1add", OPR(2, 0x10), 1, 10, 12 },
    { "sh2add", OPR(4, 0x10), 1, 10, 14 },
    { "sh3add", OPR(6, 0x10), 1, 10, 18 },
    { "sh3add wraps", OPR(6, 0x10), MIN | 1, 0, 8 },
    { "add.uw", OPW(0, 0x04), M64, 1, 0x100000000ull },
    { "sh1add.uw", OPW(2, 0x10), SW32, 0, 0x100000000ull },
    { "sh2add.uw", OPW(4, 0x10), SW32, 1, 0x200000001ull },
    { "sh3add.uw", OPW(6, 0x10), SW32, 0, 0x400000000ull },
    { "slli.uw 1", OPIW(1, 0x080 | 1), 0xffffffff80000001ull, 0,
      0x100000002ull },
    { "slli.uw 63", OPIW(1, 0x080 | 63), 0xffffffff80000001ull, 0, MIN },
    { "slli.uw 0 (zext.w)", OPIW(1, 0x080), M64, 0, 0xffffffff },
    /* Zbb */
    { "andn", OPR(7, 0x20), 0xff, 0x0f, 0xf0 },
    { "orn", OPR(6, 0x20), 0, ~0xfull, 0xf },
    { "xnor", OPR(4, 0x20), 0x1234, 0x1234, M64 },
    { "clz 0", UNARY(1, 0x600), 0, 0, 64 },
    { "clz 1", UNARY(1, 0x600), 1, 0, 63 },
    { "clz top", UNARY(1, 0x600), MIN, 0, 0 },
    { "clzw 0", UNARYW(1, 0x600), 0, 0, 32 },
    { "clzw ignores high", UNARYW(1, 0x600), 0xffffffff00000000ull, 0, 32 },
    { "clzw", UNARYW(1, 0x600), 0x8000, 0, 16 },
    { "ctz 0", UNARY(1, 0x601), 0, 0, 64 },
    { "ctz top", UNARY(1, 0x601), MIN, 0, 63 },
    { "ctzw 0", UNARYW(1, 0x601), 0, 0, 32 },
    { "ctzw ignores high", UNARYW(1, 0x601), 0x100000000ull, 0, 32 },
    { "ctzw", UNARYW(1, 0x601), 0x80000000ull, 0, 31 },
    { "cpop 0", UNARY(1, 0x602), 0, 0, 0 },
    { "cpop all", UNARY(1, 0x602), M64, 0, 64 },
    { "cpopw all", UNARYW(1, 0x602), M64, 0, 32 },
    { "cpopw 0 low", UNARYW(1, 0x602), 0xffffffff00000000ull, 0, 0 },
    { "max signed", OPR(6, 0x05), M64, 1, 1 },
    { "maxu", OPR(7, 0x05), M64, 1, M64 },
    { "min signed", OPR(4, 0x05), M64, 1, M64 },
    { "minu", OPR(5, 0x05), M64, 1, 1 },
    { "min of min", OPR(4, 0x05), MIN, 0x7fffffffffffffffull, MIN },
    { "sext.b", UNARY(1, 0x604), 0x1280, 0, 0xffffffffffffff80ull },
    { "sext.b positive", UNARY(1, 0x604), 0xff7f, 0, 0x7f },
    { "sext.h", UNARY(1, 0x605), 0x18000, 0, 0xffffffffffff8000ull },
    { "zext.h", R(0x3b, 4, 0x04) & ~(31u << 20), 0xffffffffffff8001ull, 0,
      0x8001 },
    { "rol", OPR(1, 0x30), MIN | 1, 1, 3 },
    { "rol uses 6 bits", OPR(1, 0x30), MIN | 1, 65, 3 },
    { "rolw", OPW(1, 0x30), 0x80000001ull, 1, 3 },
    { "rolw sign-extends", OPW(1, 0x30), 0x40000000ull, 1, SW32 },
    { "rolw by 32 is by 0", OPW(1, 0x30), 0x1234567880000000ull, 32, SW32 },
    { "ror", OPR(5, 0x30), 1, 1, MIN },
    { "ror by 64 is by 0", OPR(5, 0x30), 5, 64, 5 },
    { "rori 63", OPI(5, 0x600 | 63), 1, 0, 2 },
    { "roriw 1", OPIW(5, 0x600 | 1), 1, 0, SW32 },
    { "rorw by 33 is by 1", OPW(5, 0x30), 1, 33, SW32 },
    { "orc.b", UNARY(5, 0x287), 0x0001000000ff0010ull, 0,
      0x00ff000000ff00ffull },
    { "orc.b 0", UNARY(5, 0x287), 0, 0, 0 },
    { "rev8", UNARY(5, 0x6b8), 0x0102030405060708ull, 0,
      0x0807060504030201ull },
    /* Zbs */
    { "bclr uses 6 bits", OPR(1, 0x24), M64, 127, 0x7fffffffffffffffull },
    { "bclri 63", OPI(1, 0x480 | 63), M64, 0, 0x7fffffffffffffffull },
    { "bext", OPR(5, 0x24), MIN, 63, 1 },
    { "bext 0", OPR(5, 0x24), ~2ull, 1, 0 },
    { "bexti 33", OPI(5, 0x480 | 33), 1ull << 33, 0, 1 },
    { "binv", OPR(1, 0x34), 0, 0, 1 },
    { "binv clears", OPR(1, 0x34), 1, 64, 0 },
    { "binvi 63", OPI(1, 0x680 | 63), 0, 0, MIN },
    { "bset uses 6 bits", OPR(1, 0x14), 0, 65, 2 },
    { "bseti 32", OPI(1, 0x280 | 32), 0, 0, 0x100000000ull },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t run1(struct rvt *t, uint32_t insn, uint64_t a, uint64_t b)
{
    rvt_load(t, RVT_CODE, &insn, 1);
    t->h->pc = RVT_CODE;
    t->h->x[1] = a;
    t->h->x[2] = b;
    t->h->x[3] = 0xdeadbeefdeadbeefull;
    CHECK(rvt_run(t, 10));
    CHECK_EQ(t->h->pc, RVT_CODE + 4);
    return t->h->x[3];
}

TEST(results)
{
    struct rvt t;
    rvt_init(&t);
    for (unsigned i = 0; i < N(cases); i++) {
        uint64_t got = run1(&t, cases[i].insn, cases[i].a, cases[i].b);
        if (got != cases[i].want) {
            printf("  %s: a 0x%" PRIx64 " b 0x%" PRIx64 " -> 0x%" PRIx64
                   ", want 0x%" PRIx64 "\n",
                   cases[i].name, cases[i].a, cases[i].b, got, cases[i].want);
        }
        CHECK_EQ(got, cases[i].want);
    }
    rvt_free(&t);
}

TEST(lui_auipc)
{
    struct rvt t;
    rvt_init(&t);
    CHECK_EQ(run1(&t, enc_u(0x37, 3, 0x80000000u), 0, 0), SW32);
    CHECK_EQ(run1(&t, enc_u(0x37, 3, 0x7ffff000u), 0, 0), 0x7ffff000);
    CHECK_EQ(run1(&t, enc_u(0x17, 3, 0xfffff000u), 0, 0), RVT_CODE - 4096);
    CHECK_EQ(run1(&t, enc_u(0x17, 3, 0x80000000u), 0, 0),
             RVT_CODE - 0x80000000ull);
    rvt_free(&t);
}

TEST(x0_stays_zero)
{
    struct rvt t;
    rvt_init(&t);
    RVT_PROG(&t, I_ADDI(0, 0, 5), enc_r(0x33, 0, 0, 1, 1, 0),
             enc_u(0x37, 0, 0x12345000u), I_ADDI(3, 0, 0));
    t.h->x[1] = 7;
    t.h->x[3] = 99;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[0], 0);
    CHECK_EQ(t.h->x[3], 0);
    /* the jal x0 and loads into x0 as well */
    RVT_PROG(&t, enc_j(0, 8), I_NOP, I_LD(0, 5, 0), I_ADDI(3, 0, 1));
    t.h->pc = RVT_CODE;
    t.h->x[5] = RVT_DATA;
    rvt_write64(&t, RVT_DATA, 0x1122334455667788ull);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[0], 0);
    CHECK_EQ(t.h->x[3], 1);
    rvt_free(&t);
}

TEST(loads_extend)
{
    static const struct {
        unsigned f3;
        uint64_t want;
    } l[] = {
        { 0, 0xffffffffffffff88ull }, /* lb */
        { 1, 0xffffffffffff8788ull }, /* lh */
        { 2, 0xffffffff85868788ull }, /* lw */
        { 3, 0x8182838485868788ull }, /* ld */
        { 4, 0x88 },                  /* lbu */
        { 5, 0x8788 },                /* lhu */
        { 6, 0x85868788 },            /* lwu */
    };
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, RVT_DATA + 8, 0x8182838485868788ull);
    for (unsigned i = 0; i < N(l); i++) {
        /* negative offset from x1 */
        CHECK_EQ(run1(&t, I(0x03, l[i].f3, -8), RVT_DATA + 16, 0), l[i].want);
    }
    rvt_free(&t);
}

TEST(stores_sizes)
{
    struct rvt t;
    rvt_init(&t);
    for (unsigned f3 = 0; f3 < 4; f3++) {
        uint64_t a = RVT_DATA + 0x100 * (f3 + 1);
        rvt_write64(&t, a, 0);
        rvt_write64(&t, a + 8, 0);
        run1(&t, enc_s(0x23, f3, 1, 2, 8), a, 0x8182838485868788ull);
        uint64_t mask = f3 == 3 ? M64 : (1ull << (8u << f3)) - 1;
        CHECK_EQ(rvt_read64(&t, a + 8), 0x8182838485868788ull & mask);
        CHECK_EQ(rvt_read64(&t, a), 0);
    }
    rvt_free(&t);
}

/* Branch at +0 to +12 if taken; +4 sets x3 = 1 then stops at +8; +12
 * sets x3 = 2 then stops at +16. */
static uint64_t branch(struct rvt *t, unsigned f3, uint64_t a, uint64_t b)
{
    RVT_PROG(t, enc_b(f3, 1, 2, 12), I_ADDI(3, 0, 1), RVT_J_SELF,
             I_ADDI(3, 0, 2));
    t->h->pc = RVT_CODE;
    t->h->x[1] = a;
    t->h->x[2] = b;
    CHECK(rvt_run(t, 10));
    return t->h->x[3] == 2;
}

TEST(branches)
{
    struct rvt t;
    rvt_init(&t);
    CHECK(branch(&t, 0, 5, 5)); /* beq */
    CHECK(!branch(&t, 0, 5, 6));
    CHECK(branch(&t, 1, 5, 6)); /* bne */
    CHECK(!branch(&t, 1, 5, 5));
    CHECK(branch(&t, 4, M64, 1)); /* blt signed */
    CHECK(!branch(&t, 4, 1, M64));
    CHECK(!branch(&t, 4, 1, 1));
    CHECK(branch(&t, 5, 1, M64)); /* bge signed */
    CHECK(branch(&t, 5, 1, 1));
    CHECK(!branch(&t, 5, MIN, 0));
    CHECK(branch(&t, 6, 1, M64)); /* bltu */
    CHECK(!branch(&t, 6, M64, 1));
    CHECK(branch(&t, 7, M64, 1)); /* bgeu */
    CHECK(branch(&t, 7, 0, 0));
    CHECK(!branch(&t, 7, 0, 1));
    rvt_free(&t);
}

TEST(jumps)
{
    struct rvt t;
    rvt_init(&t);
    /* jal ra, +8 skips one instruction and links pc+4 */
    RVT_PROG(&t, enc_j(1, 8), I_ADDI(3, 0, 1), I_ADDI(4, 0, 1));
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[1], RVT_CODE + 4);
    CHECK_EQ(t.h->x[3], 0);
    CHECK_EQ(t.h->x[4], 1);

    /* jalr clears bit 0 of the target; rd == rs1 uses the old value */
    RVT_PROG(&t, I_JALR(1, 1, 1), I_ADDI(3, 0, 1), I_ADDI(4, 0, 2));
    t.h->pc = RVT_CODE;
    t.h->x[1] = RVT_CODE + 8;
    t.h->x[3] = t.h->x[4] = 0;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[1], RVT_CODE + 4);
    CHECK_EQ(t.h->x[3], 0);
    CHECK_EQ(t.h->x[4], 2);

    /* jalr with negative offset */
    RVT_PROG(&t, I_JALR(5, 6, -4), I_ADDI(3, 0, 1), I_ADDI(4, 0, 3));
    t.h->pc = RVT_CODE;
    t.h->x[6] = RVT_CODE + 12;
    t.h->x[3] = t.h->x[4] = 0;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[5], RVT_CODE + 4);
    CHECK_EQ(t.h->x[3], 0);
    CHECK_EQ(t.h->x[4], 3);

    /* c.jalr links pc + 2 */
    rvt_write32(&t, RVT_CODE, 0x00019502u); /* c.jalr a0; c.nop */
    rvt_write32(&t, RVT_CODE + 4, RVT_J_SELF);
    rv_block_flush(t.cpu);
    t.h->pc = RVT_CODE;
    t.h->x[10] = RVT_CODE + 4;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[1], RVT_CODE + 2);
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    rvt_free(&t);
}

/* A long straight-line block retires every instruction (RV_BLOCK_MAX
 * splits it) and instret counts them. */
TEST(long_block)
{
    struct rvt t;
    uint32_t prog[200];
    rvt_init(&t);
    for (unsigned i = 0; i < 200; i++) {
        prog[i] = I_ADDI(3, 3, 1);
    }
    rvt_load(&t, RVT_CODE, prog, 200);
    CHECK(rvt_run(&t, 100));
    CHECK_EQ(t.h->x[3], 200);
    CHECK_EQ(t.h->pc, RVT_CODE + 800);
    rvt_free(&t);
}

int main(void)
{
    RUN(results);
    RUN(lui_auipc);
    RUN(x0_stays_zero);
    RUN(loads_extend);
    RUN(stores_sizes);
    RUN(branches);
    RUN(jumps);
    RUN(long_block);
    HARNESS_END();
}
