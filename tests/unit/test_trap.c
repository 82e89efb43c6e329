/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for traps (src/cpu/riscv/trap.c and the trap-raising parts of
 * exec.c), following the privileged spec: ECALL causes by privilege,
 * delegation through medeleg/mideleg (3.1.8), interrupt enables and the
 * priority order MEI > MSI > MTI > SEI > SSI > STI (3.1.9), vectored mtvec
 * and stvec (3.1.7), the xstatus stacks on trap entry and on MRET/SRET
 * (3.1.6.1, 3.3.2), WFI (3.3.3) and the TW/TSR/TVM traps (3.1.6.5).
 */
#include "harness.h"
#include "rvtest.h"

#define IRQ(c) ((1ull << 63) | (c))

static void start(struct rvt *t, unsigned priv)
{
    t->h->pc = RVT_CODE;
    rv_set_priv(t->h, priv);
}

TEST(ecall_causes)
{
    static const struct {
        unsigned priv, cause;
    } c[] = {
        { RV_PRIV_M, RV_EXC_ECALL_M },
        { RV_PRIV_S, RV_EXC_ECALL_S },
        { RV_PRIV_U, RV_EXC_ECALL_U },
    };
    for (unsigned i = 0; i < 3; i++) {
        struct rvt t;
        rvt_init(&t);
        RVT_PROG(&t, I_NOP, I_ECALL);
        start(&t, c[i].priv);
        t.h->mstatus |= MSTATUS_MIE;
        t.h->mtval = 0x1234;
        CHECK(rvt_run(&t, 10));
        CHECK(rvt_in_mtrap(&t));
        CHECK_EQ(t.h->mcause, c[i].cause);
        CHECK_EQ(t.h->mepc, RVT_CODE + 4);
        CHECK_EQ(t.h->mtval, 0);
        CHECK_EQ((t.h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, c[i].priv);
        CHECK(t.h->mstatus & MSTATUS_MPIE);
        CHECK(!(t.h->mstatus & MSTATUS_MIE));
        rvt_free(&t);
    }
}

TEST(ebreak)
{
    struct rvt t;
    rvt_init(&t);
    RVT_PROG(&t, I_NOP, I_EBREAK);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_BREAKPOINT);
    CHECK_EQ(t.h->mepc, RVT_CODE + 4);
    /* mtval: the breakpoint's address, or zero */
    CHECK(t.h->mtval == RVT_CODE + 4 || t.h->mtval == 0);
    /* c.ebreak likewise */
    rvt_write32(&t, RVT_CODE, 0x00019002u); /* c.ebreak; c.nop */
    rv_block_flush(t.cpu);
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->mcause, RV_EXC_BREAKPOINT);
    CHECK_EQ(t.h->mepc, RVT_CODE);
    rvt_free(&t);
}

TEST(delegation_to_s)
{
    struct rvt t;
    rvt_init(&t);
    t.h->medeleg = (1u << RV_EXC_ECALL_U) | (1u << RV_EXC_ECALL_S) |
                   (1u << RV_EXC_ILLEGAL);
    /* U ecall -> S: scause 8, SPP = U, SIE -> SPIE */
    RVT_PROG(&t, I_ECALL);
    start(&t, RV_PRIV_U);
    t.h->mstatus |= MSTATUS_SIE;
    t.h->mcause = 0x77;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_strap(&t));
    CHECK_EQ(t.h->scause, RV_EXC_ECALL_U);
    CHECK_EQ(t.h->sepc, RVT_CODE);
    CHECK_EQ(t.h->stval, 0);
    CHECK(!(t.h->mstatus & MSTATUS_SPP));
    CHECK(t.h->mstatus & MSTATUS_SPIE);
    CHECK(!(t.h->mstatus & MSTATUS_SIE));
    CHECK_EQ(t.h->mcause, 0x77); /* M state untouched */
    /* S ecall -> S with SPP = S */
    start(&t, RV_PRIV_S);
    t.h->mstatus &= ~MSTATUS_SIE;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_strap(&t));
    CHECK_EQ(t.h->scause, RV_EXC_ECALL_S);
    CHECK(t.h->mstatus & MSTATUS_SPP);
    CHECK(!(t.h->mstatus & MSTATUS_SPIE));
    /* illegal instruction from U -> S with stval = the bits */
    RVT_PROG(&t, I_CSRR(3, 0x300));
    start(&t, RV_PRIV_U);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_strap(&t));
    CHECK_EQ(t.h->scause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->stval, I_CSRR(3, 0x300));
    /* M traps are never delegated */
    t.h->medeleg = 0xb3ff;
    RVT_PROG(&t, I_ECALL);
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ECALL_M);
    RVT_PROG(&t, 0);
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    /* not delegated: S ecall goes to M */
    t.h->medeleg = 0;
    RVT_PROG(&t, I_ECALL);
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ECALL_S);
    CHECK_EQ((t.h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);
    rvt_free(&t);
}

TEST(exceptions_not_vectored)
{
    struct rvt t;
    rvt_init(&t);
    t.h->mtvec = RVT_MTRAP | 1;
    RVT_PROG(&t, I_ECALL);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_MTRAP);
    rvt_free(&t);
}

/* M timer interrupt: mtimecmp 0, MTIE, then MIE set by csrs: taken at the
 * next instruction boundary, vectored to base + 4 * 7. */
TEST(timer_interrupt_vectored)
{
    struct rvt t;
    rvt_init(&t);
    t.h->mtvec = RVT_MTRAP | 1;
    rv_hart_set_mtimecmp(t.h, 0);
    t.h->x[1] = 1u << RV_IRQ_M_TIMER;
    t.h->x[2] = MSTATUS_MIE;
    RVT_PROG(&t, I_CSRRS(0, 0x304, 1), I_CSRRS(0, 0x300, 2), I_NOP, I_NOP);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_MTRAP + 4 * RV_IRQ_M_TIMER);
    CHECK_EQ(t.h->mcause, IRQ(RV_IRQ_M_TIMER));
    CHECK_EQ(t.h->mepc, RVT_CODE + 8);
    CHECK_EQ(t.h->mtval, 0);
    CHECK(t.h->mstatus & MSTATUS_MPIE);
    CHECK(!(t.h->mstatus & MSTATUS_MIE));
    CHECK_EQ((t.h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_M);
    /* mip shows MTIP */
    uint64_t v = 0;
    RVT_PROG(&t, I_CSRR(3, 0x344));
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    v = t.h->x[3];
    CHECK(v & (1u << RV_IRQ_M_TIMER));
    /* mtimecmp in the future: no longer pending */
    rv_hart_set_mtimecmp(t.h, UINT64_MAX);
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[3] & (1u << RV_IRQ_M_TIMER), 0);
    rvt_free(&t);
}

/* All six pending and enabled; taken in priority order as each is
 * cleared. */
TEST(interrupt_priority)
{
    static const unsigned order[] = { RV_IRQ_M_EXT,   RV_IRQ_M_SOFT,
                                      RV_IRQ_M_TIMER, RV_IRQ_S_EXT,
                                      RV_IRQ_S_SOFT,  RV_IRQ_S_TIMER };
    struct rvt t;
    rvt_init(&t);
    rv_hart_set_irq(t.h, RV_IRQ_M_EXT, 1);
    rv_hart_set_irq(t.h, RV_IRQ_M_SOFT, 1);
    rv_hart_set_mtimecmp(t.h, 0);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    t.h->mip = (1u << RV_IRQ_S_SOFT) | (1u << RV_IRQ_S_TIMER);
    t.h->mie = 0xaaa;
    RVT_PROG(&t, I_NOP);
    for (unsigned i = 0; i < 6; i++) {
        start(&t, RV_PRIV_M);
        t.h->mstatus |= MSTATUS_MIE;
        CHECK(rvt_run(&t, 10));
        CHECK(rvt_in_mtrap(&t));
        CHECK_EQ(t.h->mcause, IRQ(order[i]));
        switch (order[i]) {
        case RV_IRQ_M_EXT:
        case RV_IRQ_M_SOFT:
        case RV_IRQ_S_EXT:
            rv_hart_set_irq(t.h, order[i], 0);
            break;
        case RV_IRQ_M_TIMER:
            rv_hart_set_mtimecmp(t.h, UINT64_MAX);
            break;
        default:
            t.h->mip &= ~(1ull << order[i]);
            break;
        }
    }
    /* nothing left */
    start(&t, RV_PRIV_M);
    t.h->mstatus |= MSTATUS_MIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    rvt_free(&t);
}

/* An SEI that is pending while an M timer is also pending but not
 * enabled: the enabled one is taken. */
TEST(interrupt_needs_mie_bit)
{
    struct rvt t;
    rvt_init(&t);
    rv_hart_set_mtimecmp(t.h, 0);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    t.h->mie = 1u << RV_IRQ_S_EXT;
    t.h->mstatus |= MSTATUS_MIE;
    RVT_PROG(&t, I_NOP);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->mcause, IRQ(RV_IRQ_S_EXT));
    /* M with MIE clear: nothing is taken */
    t.h->mie = 0xaaa;
    start(&t, RV_PRIV_M);
    t.h->mstatus &= ~MSTATUS_MIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* S with MIE clear: M-level interrupts are still taken */
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, IRQ(RV_IRQ_M_TIMER));
    CHECK_EQ(t.h->mepc, RVT_CODE);
    CHECK_EQ((t.h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_S);
    rvt_free(&t);
}

TEST(s_interrupts_and_delegation)
{
    struct rvt t;
    rvt_init(&t);
    t.h->mideleg = 0x222;
    t.h->mie = 1u << RV_IRQ_S_SOFT;
    t.h->mip = 1u << RV_IRQ_S_SOFT;
    RVT_PROG(&t, I_NOP);
    /* delegated S interrupts are never taken in M, whatever the enables */
    start(&t, RV_PRIV_M);
    t.h->mstatus |= MSTATUS_MIE | MSTATUS_SIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    CHECK_EQ(t.h->priv, RV_PRIV_M);
    /* in S with SIE clear: not taken */
    start(&t, RV_PRIV_S);
    t.h->mstatus &= ~MSTATUS_SIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* in S with SIE: taken to S, vectored stvec */
    t.h->stvec = RVT_STRAP | 1;
    start(&t, RV_PRIV_S);
    t.h->mstatus |= MSTATUS_SIE;
    t.h->mstatus &= ~MSTATUS_MIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->priv, RV_PRIV_S);
    CHECK_EQ(t.h->pc, RVT_STRAP + 4 * RV_IRQ_S_SOFT);
    CHECK_EQ(t.h->scause, IRQ(RV_IRQ_S_SOFT));
    CHECK_EQ(t.h->sepc, RVT_CODE);
    CHECK(t.h->mstatus & MSTATUS_SPIE);
    CHECK(!(t.h->mstatus & MSTATUS_SIE));
    CHECK(t.h->mstatus & MSTATUS_SPP);
    /* in U: taken even with SIE clear */
    start(&t, RV_PRIV_U);
    t.h->mstatus &= ~MSTATUS_SIE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->priv, RV_PRIV_S);
    CHECK_EQ(t.h->scause, IRQ(RV_IRQ_S_SOFT));
    CHECK(!(t.h->mstatus & MSTATUS_SPP));
    /* a non-delegated M interrupt beats a delegated S one, from S */
    rv_hart_set_irq(t.h, RV_IRQ_M_SOFT, 1);
    t.h->mie |= 1u << RV_IRQ_M_SOFT;
    start(&t, RV_PRIV_S);
    t.h->mstatus |= MSTATUS_SIE;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, IRQ(RV_IRQ_M_SOFT));
    rvt_free(&t);
}

TEST(mret_sret)
{
    struct rvt t;
    rvt_init(&t);
    /* mret to S: MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV cleared */
    t.h->mepc = RVT_CODE + 0x100;
    t.h->mstatus = MSTATUS_MPIE | (1ull << MSTATUS_MPP_SHIFT) | MSTATUS_MPRV;
    rvt_write32(&t, RVT_CODE + 0x100, RVT_J_SELF);
    RVT_PROG(&t, I_MRET);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 0x100);
    CHECK_EQ(t.h->priv, RV_PRIV_S);
    CHECK(t.h->mstatus & MSTATUS_MIE);
    CHECK(t.h->mstatus & MSTATUS_MPIE);
    CHECK_EQ(t.h->mstatus & MSTATUS_MPP, 0);
    CHECK(!(t.h->mstatus & MSTATUS_MPRV));
    /* mret to M keeps MPRV; MPIE 0 -> MIE 0 */
    t.h->mstatus = (3ull << MSTATUS_MPP_SHIFT) | MSTATUS_MPRV | MSTATUS_MIE;
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->priv, RV_PRIV_M);
    CHECK(!(t.h->mstatus & MSTATUS_MIE));
    CHECK(t.h->mstatus & MSTATUS_MPRV);
    /* sret to U: SIE <- SPIE, SPIE <- 1, SPP <- U */
    t.h->sepc = RVT_CODE + 0x100;
    t.h->mstatus = MSTATUS_SPIE;
    RVT_PROG(&t, I_SRET);
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 0x100);
    CHECK_EQ(t.h->priv, RV_PRIV_U);
    CHECK(t.h->mstatus & MSTATUS_SIE);
    CHECK(t.h->mstatus & MSTATUS_SPIE);
    /* sret to S from M; clears MPRV */
    t.h->mstatus = MSTATUS_SPP | MSTATUS_MPRV;
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->priv, RV_PRIV_S);
    CHECK(!(t.h->mstatus & MSTATUS_SIE));
    CHECK(!(t.h->mstatus & MSTATUS_SPP));
    CHECK(!(t.h->mstatus & MSTATUS_MPRV));
    /* mret from S, sret from U: illegal */
    RVT_PROG(&t, I_MRET);
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_MRET);
    RVT_PROG(&t, I_SRET);
    start(&t, RV_PRIV_U);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_SRET);
    rvt_free(&t);
}

/* xRET enabling a pending interrupt: it is taken right after the return,
 * with xepc at the return target. */
TEST(mret_unmasks_pending)
{
    struct rvt t;
    rvt_init(&t);
    rv_hart_set_irq(t.h, RV_IRQ_M_SOFT, 1);
    t.h->mie = 1u << RV_IRQ_M_SOFT;
    t.h->mepc = RVT_CODE + 0x100;
    t.h->mstatus = MSTATUS_MPIE | (3ull << MSTATUS_MPP_SHIFT);
    rvt_write32(&t, RVT_CODE + 0x100, I_NOP);
    RVT_PROG(&t, I_MRET);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, IRQ(RV_IRQ_M_SOFT));
    CHECK_EQ(t.h->mepc, RVT_CODE + 0x100);
    rvt_free(&t);
}

TEST(wfi)
{
    struct rvt t;
    rvt_init(&t);
    /* U: illegal (S-mode exists) */
    RVT_PROG(&t, I_WFI);
    start(&t, RV_PRIV_U);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_WFI);
    /* M, nothing pending: the hart waits, pc past the wfi */
    start(&t, RV_PRIV_M);
    CHECK(!rvt_run(&t, 10));
    CHECK(t.h->wfi);
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* an interrupt enabled in mie wakes it even with MIE clear; then
     * execution continues without a trap */
    rv_hart_set_mtimecmp(t.h, 0);
    t.h->mie = 1u << RV_IRQ_M_TIMER;
    CHECK(rvt_run(&t, 10));
    CHECK(!t.h->wfi);
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* already pending: wfi does not wait */
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK(!t.h->wfi);
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* S without TW: waits */
    rv_hart_set_mtimecmp(t.h, UINT64_MAX);
    start(&t, RV_PRIV_S);
    CHECK(!rvt_run(&t, 10));
    CHECK(t.h->wfi);
    t.h->wfi = false;
    rvt_free(&t);
}

TEST(tw_tsr_tvm)
{
    struct rvt t;
    rvt_init(&t);
    /* TW: wfi in S is illegal; in M it is not */
    t.h->mstatus |= MSTATUS_TW;
    RVT_PROG(&t, I_WFI);
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_WFI);
    t.h->mstatus |= MSTATUS_TW;
    start(&t, RV_PRIV_M);
    CHECK(!rvt_run(&t, 10));
    CHECK(t.h->wfi);
    t.h->wfi = false;
    /* TSR: sret in S is illegal, in M it is not */
    t.h->mstatus = MSTATUS_TSR | MSTATUS_SPP;
    t.h->sepc = RVT_CODE + 0x100;
    rvt_write32(&t, RVT_CODE + 0x100, RVT_J_SELF);
    RVT_PROG(&t, I_SRET);
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_SRET);
    t.h->mstatus = MSTATUS_TSR | MSTATUS_SPP;
    start(&t, RV_PRIV_M);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 0x100);
    CHECK_EQ(t.h->priv, RV_PRIV_S);
    /* TVM: sfence.vma and satp in S are illegal */
    t.h->mstatus = MSTATUS_TVM;
    RVT_PROG(&t, I_SFENCE_VMA(0, 0));
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_SFENCE_VMA(0, 0));
    t.h->mstatus = 0;
    start(&t, RV_PRIV_S);
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* sfence.vma in U is always illegal */
    start(&t, RV_PRIV_U);
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    rvt_free(&t);
}

/* A fetch from an address with no memory: instruction access fault with
 * the address, and a trap vector pointing nowhere does not hang the
 * emulator (the budget still runs out). */
TEST(fetch_fault_and_trap_loop)
{
    struct rvt t;
    rvt_init(&t);
    t.h->x[1] = 0x20000000;
    RVT_PROG(&t, I_JALR(0, 1, 0));
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_INSN_ACCESS);
    CHECK_EQ(t.h->mepc, 0x20000000);
    CHECK_EQ(t.h->mtval, 0x20000000);
    /* mtvec = 0 (no memory): each fault re-faults at the vector */
    t.h->mtvec = 0;
    start(&t, RV_PRIV_M);
    rv_exec_slice(t.h, 1000); /* must return */
    CHECK_EQ(t.h->pc, 0);
    CHECK_EQ(t.h->mcause, RV_EXC_INSN_ACCESS);
    rvt_free(&t);
}

int main(void)
{
    RUN(ecall_causes);
    RUN(ebreak);
    RUN(delegation_to_s);
    RUN(exceptions_not_vectored);
    RUN(timer_interrupt_vectored);
    RUN(interrupt_priority);
    RUN(interrupt_needs_mie_bit);
    RUN(s_interrupts_and_delegation);
    RUN(mret_sret);
    RUN(mret_unmasks_pending);
    RUN(wfi);
    RUN(tw_tsr_tvm);
    RUN(fetch_fault_and_trap_loop);
    HARNESS_END();
}
