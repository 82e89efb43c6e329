/* SPDX-License-Identifier: MIT */
/*
 * Traps (RISC-V privileged spec 3.1.6-3.1.9, 3.3.2, 4.1.1): taking an
 * exception or interrupt in M or S mode with delegation through
 * medeleg/mideleg, vectored mtvec/stvec for interrupts, interrupt priority
 * and global enables, MRET and SRET.
 */
#include "core/log.h"
#include "cpu/riscv/hart.h"

void rv_set_priv(struct rv_hart *h, unsigned priv)
{
    h->priv = priv;
    rv_update_data_priv(h);
}

static void take_trap(struct rv_hart *h, uint64_t cause, uint64_t tval,
                      bool is_irq)
{
    unsigned code = (unsigned)(cause & 63);
    bool to_s = h->priv <= RV_PRIV_S &&
                ((is_irq ? h->mideleg : h->medeleg) >> code) & 1;
    uint64_t mcause = cause | (is_irq ? 1ull << 63 : 0);

    if (log_enabled(LOG_INT)) {
        log_msg("int: hart %u %s %u at pc 0x%llx tval 0x%llx priv %u -> %c",
                (unsigned)h->hartid, is_irq ? "interrupt" : "exception", code,
                (unsigned long long)h->pc, (unsigned long long)tval, h->priv,
                to_s ? 'S' : 'M');
    }
    h->res_valid = false;
    h->wfi = false;
    if (to_s) {
        uint64_t s = h->mstatus;
        h->sepc = h->pc;
        h->scause = mcause;
        h->stval = tval;
        s = (s & ~MSTATUS_SPIE) | ((s & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
        s &= ~MSTATUS_SIE;
        s = (s & ~MSTATUS_SPP) | (h->priv == RV_PRIV_S ? MSTATUS_SPP : 0);
        h->mstatus = s;
        h->pc = h->stvec & ~3ull;
        if (is_irq && (h->stvec & 3) == 1) {
            h->pc += 4ull * code;
        }
        rv_set_priv(h, RV_PRIV_S);
    } else {
        uint64_t s = h->mstatus;
        h->mepc = h->pc;
        h->mcause = mcause;
        h->mtval = tval;
        s = (s & ~MSTATUS_MPIE) | ((s & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
        s &= ~MSTATUS_MIE;
        s = (s & ~MSTATUS_MPP) | ((uint64_t)h->priv << MSTATUS_MPP_SHIFT);
        h->mstatus = s;
        h->pc = h->mtvec & ~3ull;
        if (is_irq && (h->mtvec & 3) == 1) {
            h->pc += 4ull * code;
        }
        rv_set_priv(h, RV_PRIV_M);
    }
}

void rv_raise(struct rv_hart *h, unsigned cause, uint64_t tval)
{
    if (h->cpu->user) {
        /* User mode: the trap leaves the interpreter (rv_user_run). */
        h->mcause = cause;
        h->mtval = tval;
        h->user_trap = true;
        h->yielded = true;
        h->res_valid = false;
        return;
    }
    take_trap(h, cause, tval, false);
}

/* Priority order of the privileged spec (3.1.9). */
static const uint8_t irq_order[] = { RV_IRQ_M_EXT,   RV_IRQ_M_SOFT,
                                     RV_IRQ_M_TIMER, RV_IRQ_S_EXT,
                                     RV_IRQ_S_SOFT,  RV_IRQ_S_TIMER };

bool rv_check_interrupts(struct rv_hart *h)
{
    uint64_t pend = rv_pending_irqs(h);
    uint64_t m_en, s_en;

    if (!pend) {
        return false;
    }
    /* Interrupts for M: not delegated; enabled below M or with MIE. */
    m_en = (h->priv < RV_PRIV_M || (h->mstatus & MSTATUS_MIE))
               ? pend & ~h->mideleg
               : 0;
    /* Delegated to S: enabled below S, or in S with SIE; never in M. */
    s_en = (h->priv < RV_PRIV_S ||
            (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_SIE)))
               ? pend & h->mideleg
               : 0;
    uint64_t en = m_en ? m_en : s_en;
    if (!en) {
        return false;
    }
    for (unsigned i = 0; i < sizeof(irq_order); i++) {
        if (en & (1ull << irq_order[i])) {
            take_trap(h, irq_order[i], 0, true);
            return true;
        }
    }
    return false;
}

void rv_mret(struct rv_hart *h)
{
    uint64_t s = h->mstatus;
    unsigned mpp = (unsigned)((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);

    s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
    s |= MSTATUS_MPIE;
    s &= ~MSTATUS_MPP; /* U, the least-privileged mode */
    if (mpp != RV_PRIV_M) {
        s &= ~MSTATUS_MPRV;
    }
    h->mstatus = s;
    h->pc = h->mepc;
    rv_set_priv(h, mpp);
}

void rv_sret(struct rv_hart *h)
{
    uint64_t s = h->mstatus;
    unsigned spp = (s & MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;

    s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
    s |= MSTATUS_SPIE;
    s &= ~MSTATUS_SPP;
    s &= ~MSTATUS_MPRV;
    h->mstatus = s;
    h->pc = h->sepc;
    rv_set_priv(h, spp);
}
