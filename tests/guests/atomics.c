/* SPDX-License-Identifier: MIT */
/*
 * A and M extension semantics at their edges: lr/sc success and failure
 * (no reservation, reservation on another address, reservation consumed),
 * lr.w sign extension, every AMO in .w and .d form (old value and memory
 * after), misaligned lr/sc/amo traps (cause printed: the spec allows
 * address-misaligned or access fault), and division/multiplication corner
 * cases (x/0, INT_MIN/-1, mulh/mulhsu/mulhu, *w forms).
 */
#include "lib.h"

static volatile uint64_t cell[4] __attribute__((aligned(16)));

static long lr_d(volatile uint64_t *p)
{
    long v;
    asm volatile("lr.d %0, (%1)" : "=r"(v) : "r"(p) : "memory");
    return v;
}
static long sc_d(volatile uint64_t *p, long v)
{
    long r;
    asm volatile("sc.d %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}
static long lr_w(volatile void *p)
{
    long v;
    asm volatile("lr.w %0, (%1)" : "=r"(v) : "r"(p) : "memory");
    return v;
}
static long sc_w(volatile void *p, long v)
{
    long r;
    asm volatile("sc.w %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory");
    return r;
}

static void test_lrsc(void)
{
    cell[0] = 100;
    cell[1] = 200;
    long v = lr_d(&cell[0]);
    long r1 = sc_d(&cell[0], v + 1);
    long r2 = sc_d(&cell[0], 999);
    pr("lr.d=%d sc.d=%s then sc.d again=%s mem=%d\n", v, r1 ? "fail" : "ok",
       r2 ? "fail" : "ok", cell[0]);
    CHECK_EQ(r1, 0);
    CHECK(r2 != 0);
    CHECK_EQ(cell[0], 101);
    lr_d(&cell[0]);
    long r3 = sc_d(&cell[1], 5);
    pr("sc.d to other address=%s mem=%d\n", r3 ? "fail" : "ok", cell[1]);
    CHECK(r3 != 0);
    CHECK_EQ(cell[1], 200);
    cell[2] = 0x80000000UL;
    long w = lr_w(&cell[2]);
    long r4 = sc_w(&cell[2], 0x7fffffff);
    pr("lr.w=0x%x sc.w=%s mem=0x%x\n", w, r4 ? "fail" : "ok", cell[2]);
    CHECK_EQ(w, 0xffffffff80000000UL);
    CHECK_EQ(r4, 0);
    CHECK_EQ(cell[2], 0x7fffffff);
}

#define AMO(name, insn)                        \
    static long name(volatile void *p, long v) \
    {                                          \
        long r;                                \
        asm volatile(insn " %0, %2, (%1)"      \
                     : "=r"(r)                 \
                     : "r"(p), "r"(v)          \
                     : "memory");              \
        return r;                              \
    }
AMO(a_swap_w, "amoswap.w")
AMO(a_add_w, "amoadd.w") AMO(a_and_w, "amoand.w") AMO(a_or_w, "amoor.w")
    AMO(a_xor_w, "amoxor.w") AMO(a_min_w, "amomin.w") AMO(a_max_w, "amomax.w")
        AMO(a_minu_w, "amominu.w") AMO(a_maxu_w, "amomaxu.w")
            AMO(a_swap_d, "amoswap.d") AMO(a_add_d, "amoadd.d")
                AMO(a_and_d, "amoand.d") AMO(a_or_d, "amoor.d")
                    AMO(a_xor_d, "amoxor.d") AMO(a_min_d, "amomin.d")
                        AMO(a_max_d, "amomax.d") AMO(a_minu_d, "amominu.d")
                            AMO(a_maxu_d, "amomaxu.d")

                                static const struct {
    const char *name;
    long (*fn)(volatile void *, long);
    int w;
} amos[] = {
    { "amoswap.w", a_swap_w, 1 }, { "amoadd.w", a_add_w, 1 },
    { "amoand.w", a_and_w, 1 },   { "amoor.w", a_or_w, 1 },
    { "amoxor.w", a_xor_w, 1 },   { "amomin.w", a_min_w, 1 },
    { "amomax.w", a_max_w, 1 },   { "amominu.w", a_minu_w, 1 },
    { "amomaxu.w", a_maxu_w, 1 }, { "amoswap.d", a_swap_d, 0 },
    { "amoadd.d", a_add_d, 0 },   { "amoand.d", a_and_d, 0 },
    { "amoor.d", a_or_d, 0 },     { "amoxor.d", a_xor_d, 0 },
    { "amomin.d", a_min_d, 0 },   { "amomax.d", a_max_d, 0 },
    { "amominu.d", a_minu_d, 0 }, { "amomaxu.d", a_maxu_d, 0 },
};

static void test_amo(void)
{
    static const uint64_t mem[] = { 0x7fffffff80000001UL, 0x00000000fffffffeUL,
                                    0x8000000000000000UL };
    static const uint64_t opd[] = { 0x0000000100000003UL,
                                    0xffffffff80000000UL };
    for (unsigned i = 0; i < sizeof(amos) / sizeof(amos[0]); i++) {
        pr("%s:", amos[i].name);
        for (unsigned m = 0; m < 3; m++)
            for (unsigned o = 0; o < 2; o++) {
                cell[0] = mem[m];
                cell[1] = 0x1111111111111111UL;
                long old = amos[i].fn(&cell[0], (long)opd[o]);
                pr(" %x>%x", old, cell[0]);
                CHECK_EQ(cell[1], 0x1111111111111111UL);
            }
        pr("\n");
    }
}

/* Misaligned lr/amo must trap. Only "it trapped" is in the transcript:
 * the spec allows address-misaligned (4 for lr, 6 for amo) or access
 * fault (5/7), and QEMU 7.2 reports cause 4 for a misaligned AMO. A
 * misaligned sc without reservation is not tested: QEMU 7.2 fails it
 * without trapping. */
static void test_misaligned(void)
{
    volatile uint8_t *b = (volatile uint8_t *)cell;
    expect_traps();
    a_add_d(b + 4, 1);
    pr("misaligned amoadd.d: traps=%d tval-ok=%d\n", last_trap.count,
       last_trap.tval == (unsigned long)(b + 4));
    CHECK_EQ(last_trap.count, 1);
    expect_traps();
    a_add_w(b + 2, 1);
    pr("misaligned amoadd.w: traps=%d\n", last_trap.count);
    CHECK_EQ(last_trap.count, 1);
    expect_traps();
    lr_d((volatile uint64_t *)(b + 4));
    pr("misaligned lr.d: traps=%d cause=%d\n", last_trap.count,
       last_trap.cause);
    CHECK_EQ(last_trap.count, 1);
    CHECK(last_trap.cause == CAUSE_MISALIGNED_LOAD ||
          last_trap.cause == CAUSE_LOAD_ACCESS);
    no_traps();
}

#define OP(name, insn)                                               \
    static long name(long a, long b)                                 \
    {                                                                \
        long r;                                                      \
        asm volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); \
        return r;                                                    \
    }
OP(o_div, "div")
OP(o_divu, "divu") OP(o_rem, "rem") OP(o_remu, "remu") OP(o_divw, "divw")
    OP(o_divuw, "divuw") OP(o_remw, "remw") OP(o_remuw, "remuw")
        OP(o_mul, "mul") OP(o_mulh, "mulh") OP(o_mulhsu, "mulhsu")
            OP(o_mulhu, "mulhu") OP(o_mulw, "mulw")

                static const struct {
    const char *name;
    long (*fn)(long, long);
} mops[] = {
    { "div", o_div },   { "divu", o_divu },     { "rem", o_rem },
    { "remu", o_remu }, { "divw", o_divw },     { "divuw", o_divuw },
    { "remw", o_remw }, { "remuw", o_remuw },   { "mul", o_mul },
    { "mulh", o_mulh }, { "mulhsu", o_mulhsu }, { "mulhu", o_mulhu },
    { "mulw", o_mulw },
};

static void test_m(void)
{
    static const uint64_t v[][2] = {
        { 7, 0 },
        { 0x8000000000000000UL, 0xffffffffffffffffUL },
        { 0xffffffff80000000UL, 0xffffffffffffffffUL },
        { 0x0000000180000000UL, 0x00000000ffffffffUL },
        { 0xffffffffffffffffUL, 0xffffffffffffffffUL },
        { 0x8000000000000000UL, 0x7fffffffffffffffUL },
        { 0x123456789abcdef0UL, 0xfedcba9876543210UL },
        { 0xfffffffffffffff9UL, 2 },
    };
    for (unsigned i = 0; i < sizeof(mops) / sizeof(mops[0]); i++) {
        pr("%s:", mops[i].name);
        for (unsigned k = 0; k < sizeof(v) / sizeof(v[0]); k++)
            pr(" %x", mops[i].fn((long)v[k][0], (long)v[k][1]));
        pr("\n");
    }
    CHECK_EQ(o_div(7, 0), -1L);
    CHECK_EQ(o_rem(7, 0), 7);
    CHECK_EQ(o_divu(7, 0), ~0UL);
    CHECK_EQ(o_div((long)0x8000000000000000UL, -1), 0x8000000000000000UL);
    CHECK_EQ(o_rem((long)0x8000000000000000UL, -1), 0);
    CHECK_EQ(o_divw((long)0xffffffff80000000UL, -1), 0xffffffff80000000UL);
    CHECK_EQ(o_remw((long)0xffffffff80000000UL, -1), 0);
    CHECK_EQ(o_divuw(0x180000000L, 0), ~0UL);
    CHECK_EQ(o_remuw(0x180000000L, 0), 0xffffffff80000000UL);
    CHECK_EQ(o_mulhu(-1, -1), 0xfffffffffffffffeUL);
    CHECK_EQ(o_mulh(-1, -1), 0);
    CHECK_EQ(o_mulhsu(-1, -1), ~0UL);
}

int main(void)
{
    pr("atomics: start\n");
    test_lrsc();
    test_amo();
    test_misaligned();
    test_m();
    return 0;
}
