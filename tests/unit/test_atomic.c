/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the A extension in the executor (src/cpu/riscv/exec.c and
 * rv_amo_ptr in mmu.c), following the unprivileged spec's "A" chapter:
 * LR/SC success and failure (no reservation, reservation already used,
 * reservation lost to a trap, different address), AMO*.W operating on and
 * sign-extending 32-bit values, signed versus unsigned min/max, and
 * misaligned AMOs raising store/AMO address-misaligned (cause 6) with the
 * address in mtval and no side effects.
 */
#include "harness.h"
#include "rvtest.h"

#define AMO(f5, w, rd, rs1, rs2) \
    enc_r(0x2f, rd, (w) ? 3 : 2, rs1, rs2, (f5) << 2)
#define LR_W(rd, rs1)      AMO(0x02, 0, rd, rs1, 0)
#define LR_D(rd, rs1)      AMO(0x02, 1, rd, rs1, 0)
#define SC_W(rd, rs2, rs1) AMO(0x03, 0, rd, rs1, rs2)
#define SC_D(rd, rs2, rs1) AMO(0x03, 1, rd, rs1, rs2)

#define F_ADD  0x00
#define F_SWAP 0x01
#define F_XOR  0x04
#define F_OR   0x08
#define F_AND  0x0c
#define F_MIN  0x10
#define F_MAX  0x14
#define F_MINU 0x18
#define F_MAXU 0x1c

#define A (RVT_DATA + 0x100)

TEST(lr_sc_success)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 0x1111111122222222ull);
    /* lr.w x3,(x1); addi x3,x3,1; sc.w x4,x3,(x1) */
    RVT_PROG(&t, LR_W(3, 1), I_ADDI(3, 3, 1), SC_W(4, 3, 1));
    t.h->x[1] = A;
    t.h->x[4] = 77;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[4], 0);
    CHECK_EQ(rvt_read64(&t, A), 0x1111111122222223ull);

    /* lr.d/sc.d; lr.w sign-extends */
    rvt_write64(&t, A, 0x80000000ffffffffull);
    RVT_PROG(&t, LR_D(3, 1), I_ADDI(3, 3, 1), SC_D(4, 3, 1), LR_W(5, 1));
    t.h->pc = RVT_CODE;
    t.h->x[4] = 77;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[4], 0);
    CHECK_EQ(rvt_read64(&t, A), 0x8000000100000000ull);
    CHECK_EQ(t.h->x[5], 0);
    rvt_free(&t);
}

TEST(sc_without_reservation_fails)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 5);
    RVT_PROG(&t, SC_W(4, 2, 1), SC_D(6, 2, 1));
    t.h->x[1] = A;
    t.h->x[2] = 0x99;
    CHECK(rvt_run(&t, 10));
    CHECK(t.h->x[4] != 0);
    CHECK(t.h->x[6] != 0);
    CHECK_EQ(rvt_read64(&t, A), 5);
    rvt_free(&t);
}

TEST(sc_twice_fails)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 5);
    RVT_PROG(&t, LR_D(3, 1), SC_D(4, 2, 1), SC_D(5, 7, 1));
    t.h->x[1] = A;
    t.h->x[2] = 0x99;
    t.h->x[7] = 0x42;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[4], 0);
    CHECK(t.h->x[5] != 0);
    CHECK_EQ(rvt_read64(&t, A), 0x99);
    rvt_free(&t);
}

TEST(sc_other_address_fails)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 5);
    rvt_write64(&t, A + 0x40, 6);
    RVT_PROG(&t, LR_D(3, 1), SC_D(4, 2, 8));
    t.h->x[1] = A;
    t.h->x[8] = A + 0x40;
    t.h->x[2] = 0x99;
    CHECK(rvt_run(&t, 10));
    CHECK(t.h->x[4] != 0);
    CHECK_EQ(rvt_read64(&t, A + 0x40), 6);
    rvt_free(&t);
}

/* A trap between LR and SC drops the reservation: the M handler skips the
 * ecall (mepc += 4) and returns; the SC after it must fail. */
TEST(sc_after_trap_fails)
{
    struct rvt t;
    uint64_t handler = RVT_CODE + 0x400;
    rvt_init(&t);
    rvt_write64(&t, A, 5);
    rvt_load(&t, handler,
             (const uint32_t[]){ I_CSRR(30, 0x341), I_ADDI(30, 30, 4),
                                 I_CSRW(0x341, 30), I_MRET },
             4);
    RVT_PROG(&t, LR_W(3, 1), I_ECALL, SC_W(4, 2, 1));
    t.h->mtvec = handler;
    t.h->x[1] = A;
    t.h->x[2] = 0x99;
    CHECK(rvt_run(&t, 20));
    CHECK_EQ(t.h->pc, RVT_CODE + 12);
    CHECK_EQ(t.h->mcause, RV_EXC_ECALL_M);
    CHECK(t.h->x[4] != 0);
    CHECK_EQ(rvt_read64(&t, A), 5);
    rvt_free(&t);
}

struct amocase {
    const char *name;
    unsigned f5, dw;
    uint64_t mem, src;
    uint64_t want_rd, want_mem; /* want_mem: the full 64-bit doubleword */
};

static const struct amocase amos[] = {
    /* W forms: only the low word changes; rd gets the old word
     * sign-extended; the operation sees 32-bit values. */
    { "amoadd.w", F_ADD, 0, 0xaaaaaaaa80000000ull, 1, 0xffffffff80000000ull,
      0xaaaaaaaa80000001ull },
    { "amoadd.w wraps", F_ADD, 0, 0xffffffff, 1, 0xffffffffffffffffull, 0 },
    { "amoswap.w", F_SWAP, 0, 0x7fffffff, 0x1234567880000000ull, 0x7fffffff,
      0x80000000ull },
    { "amoxor.w", F_XOR, 0, 0xff00ff00, 0xffffffffffffffffull,
      0xffffffffff00ff00ull, 0x00ff00ff },
    { "amoand.w", F_AND, 0, 0xf0f0f0f0, 0xff, 0xfffffffff0f0f0f0ull, 0xf0 },
    { "amoor.w", F_OR, 0, 0x1, 0x80000000ull, 1, 0x80000001ull },
    { "amomin.w signed", F_MIN, 0, 0xffffffff, 1, 0xffffffffffffffffull,
      0xffffffff },
    { "amomin.w uses 32 bits", F_MIN, 0, 0, 0x80000000ull, 0, 0x80000000ull },
    { "amomax.w signed", F_MAX, 0, 0xffffffff, 1, 0xffffffffffffffffull, 1 },
    { "amomax.w uses 32 bits", F_MAX, 0, 0x80000000ull, 0xffffffff00000000ull,
      0xffffffff80000000ull, 0 },
    { "amominu.w", F_MINU, 0, 0xffffffff, 1, 0xffffffffffffffffull, 1 },
    { "amominu.w ignores high", F_MINU, 0, 5, 0xffffffff00000007ull, 5, 5 },
    { "amomaxu.w", F_MAXU, 0, 0xffffffff, 1, 0xffffffffffffffffull,
      0xffffffff },
    { "amomaxu.w ignores high", F_MAXU, 0, 5, 0x0000000100000003ull, 5, 5 },
    /* D forms */
    { "amoadd.d", F_ADD, 1, 0xffffffffffffffffull, 2, 0xffffffffffffffffull,
      1 },
    { "amoswap.d", F_SWAP, 1, 1, 0x8000000000000000ull, 1,
      0x8000000000000000ull },
    { "amoxor.d", F_XOR, 1, 0xff, 0xf0, 0xff, 0x0f },
    { "amoand.d", F_AND, 1, 0xff, 0xf0, 0xff, 0xf0 },
    { "amoor.d", F_OR, 1, 0x0f, 0xf0, 0x0f, 0xff },
    { "amomin.d signed", F_MIN, 1, 0x8000000000000000ull, 0,
      0x8000000000000000ull, 0x8000000000000000ull },
    { "amomax.d signed", F_MAX, 1, 0x8000000000000000ull, 0,
      0x8000000000000000ull, 0 },
    { "amominu.d", F_MINU, 1, 0x8000000000000000ull, 1, 0x8000000000000000ull,
      1 },
    { "amomaxu.d", F_MAXU, 1, 0x8000000000000000ull, 1, 0x8000000000000000ull,
      0x8000000000000000ull },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(amo_results)
{
    struct rvt t;
    rvt_init(&t);
    for (unsigned i = 0; i < N(amos); i++) {
        const struct amocase *c = &amos[i];
        unsigned before = (unsigned)harness_failed_checks;
        rvt_write64(&t, A, c->mem);
        rvt_write64(&t, A + 8, 0x5555555555555555ull);
        RVT_PROG(&t, AMO(c->f5, c->dw, 3, 1, 2));
        t.h->pc = RVT_CODE;
        t.h->x[1] = A;
        t.h->x[2] = c->src;
        CHECK(rvt_run(&t, 10));
        CHECK_EQ(t.h->pc, RVT_CODE + 4);
        CHECK_EQ(t.h->x[3], c->want_rd);
        CHECK_EQ(rvt_read64(&t, A), c->want_mem);
        CHECK_EQ(rvt_read64(&t, A + 8), 0x5555555555555555ull);
        if ((unsigned)harness_failed_checks != before) {
            printf("  (%s)\n", c->name);
        }
    }
    rvt_free(&t);
}

/* rd == rs2: the store uses the register's value before the write. */
TEST(amo_rd_is_rs2)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 10);
    RVT_PROG(&t, AMO(F_ADD, 1, 2, 1, 2), AMO(F_SWAP, 1, 0, 1, 5));
    t.h->x[1] = A;
    t.h->x[2] = 3;
    t.h->x[5] = 0x77;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[2], 10);
    CHECK_EQ(t.h->x[0], 0);
    CHECK_EQ(rvt_read64(&t, A), 0x77);
    rvt_free(&t);
}

static void misaligned(uint32_t insn, uint64_t addr, unsigned cause)
{
    struct rvt t;
    rvt_init(&t);
    rvt_write64(&t, A, 0x0102030405060708ull);
    rvt_write64(&t, A + 8, 0x1112131415161718ull);
    RVT_PROG(&t, insn);
    t.h->x[1] = addr;
    t.h->x[2] = 0xffffffffffffffffull;
    t.h->x[3] = 0x33;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, cause);
    CHECK_EQ(t.h->mtval, addr);
    CHECK_EQ(t.h->mepc, RVT_CODE);
    CHECK_EQ(t.h->x[3], 0x33);
    CHECK_EQ(rvt_read64(&t, A), 0x0102030405060708ull);
    CHECK_EQ(rvt_read64(&t, A + 8), 0x1112131415161718ull);
    rvt_free(&t);
}

TEST(misaligned_amo)
{
    misaligned(AMO(F_ADD, 0, 3, 1, 2), A + 2, RV_EXC_STORE_MISALIGNED);
    misaligned(AMO(F_SWAP, 0, 3, 1, 2), A + 1, RV_EXC_STORE_MISALIGNED);
    misaligned(AMO(F_OR, 1, 3, 1, 2), A + 4, RV_EXC_STORE_MISALIGNED);
    misaligned(AMO(F_MAXU, 1, 3, 1, 2), A + 7, RV_EXC_STORE_MISALIGNED);
    misaligned(SC_W(3, 2, 1), A + 2, RV_EXC_STORE_MISALIGNED);
    misaligned(SC_D(3, 2, 1), A + 4, RV_EXC_STORE_MISALIGNED);
    /* LR is a load: load address misaligned */
    misaligned(LR_W(3, 1), A + 2, RV_EXC_LOAD_MISALIGNED);
    misaligned(LR_D(3, 1), A + 4, RV_EXC_LOAD_MISALIGNED);
}

/* An AMO outside RAM is an access fault (the bus has nothing there). */
TEST(amo_outside_ram)
{
    struct rvt t;
    rvt_init(&t);
    RVT_PROG(&t, AMO(F_ADD, 0, 3, 1, 2));
    t.h->x[1] = 0x10000000;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_STORE_ACCESS);
    CHECK_EQ(t.h->mtval, 0x10000000);
    rvt_free(&t);
}

int main(void)
{
    RUN(lr_sc_success);
    RUN(sc_without_reservation_fails);
    RUN(sc_twice_fails);
    RUN(sc_other_address_fails);
    RUN(sc_after_trap_fails);
    RUN(amo_results);
    RUN(amo_rd_is_rs2);
    RUN(misaligned_amo);
    RUN(amo_outside_ram);
    HARNESS_END();
}
