/* SPDX-License-Identifier: MIT */
/*
 * User mode of the CPU emulator (rv.h, "User mode"), the hook linux-user
 * emulation (src/user) runs guest threads through: one U-mode hart per
 * CPU, guest addresses used as host addresses, traps returned to the
 * caller instead of vectored. The rest of user mode is a few tests of
 * cpu->user in the shared code: rv_raise (trap.c) records the trap and
 * ends the slice, translate (mmu.c) asks the hooks instead of walking page
 * tables and fills the TLB with a zero addend, and AMOs and LR/SC
 * (exec.c) use host atomics. It does not know about system calls,
 * signals or the guest's memory map.
 */
#include "cpu/riscv/hart.h"

void rv_user_regs(struct rv_hart *h, struct rv_user_regs *r)
{
    r->x = h->x;
    r->f = h->f;
    r->pc = &h->pc;
}

uint32_t rv_user_fcsr(const struct rv_hart *h)
{
    return h->frm << 5 | h->fflags;
}

void rv_user_set_fcsr(struct rv_hart *h, uint32_t fcsr)
{
    h->fflags = fcsr & 0x1f;
    h->frm = (fcsr >> 5) & 7;
}

int rv_user_run(struct rv_hart *h, uint64_t budget, uint64_t *tval)
{
    h->user_trap = false;
    rv_exec_slice(h, budget);
    atomic_store(&h->cpu->kicked, false);
    if (h->user_trap) {
        h->user_trap = false;
        *tval = h->mtval;
        return (int)h->mcause;
    }
    return -1;
}

void rv_user_kick(struct rv_cpu *cpu)
{
    atomic_store(&cpu->kicked, true);
}

void rv_user_flush(struct rv_cpu *cpu)
{
    for (unsigned i = 0; i < cpu->nharts; i++) {
        rv_tlb_flush(cpu->harts[i]);
    }
    rv_block_invalidate(cpu);
}
