/* SPDX-License-Identifier: MIT */
/* SMP: 2 */
/*
 * Two harts: hart 0 wakes hart 1 through its CLINT msip, exchanges
 * software interrupts both ways (handlers count per hart and clear their
 * own msip) and both harts hammer shared counters with amoadd.d and an
 * lr.d/sc.d loop; totals must be exact.
 */
#include "lib.h"

#define ROUNDS 3
#define ADDS   20000

static volatile unsigned long started, started_id, ipis[MAX_HARTS], ack;
static volatile unsigned long amo_counter, lrsc_counter, done[MAX_HARTS];
static volatile unsigned long go;

static int ipi_hook(struct trap_frame *f)
{
    unsigned long h = hartid();
    if (f->cause != (CAUSE_INTR | 3)) {
        pr("FAIL hart %d unexpected cause 0x%x\n", h, f->cause);
        finish(97);
    }
    mmio_w32(CLINT_MSIP(h), 0);
    __atomic_fetch_add(&ipis[h], 1, __ATOMIC_SEQ_CST);
    return TRAP_RESUME;
}

static void bump(void)
{
    for (int i = 0; i < ADDS; i++) {
        __atomic_fetch_add(&amo_counter, 1, __ATOMIC_RELAXED);
        unsigned long tmp, fail;
        asm volatile("1: lr.d %0, (%2)\n"
                     "   addi %0, %0, 1\n"
                     "   sc.d %1, %0, (%2)\n"
                     "   bnez %1, 1b"
                     : "=&r"(tmp), "=&r"(fail)
                     : "r"(&lrsc_counter)
                     : "memory");
    }
}

static void hart1_main(unsigned long h)
{
    started_id = csr_read(mhartid);
    fence();
    started = 1;
    /* take ROUNDS IPIs from hart 0, acknowledging each */
    csr_write(mie, MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (unsigned long n = 0; n < ROUNDS;) {
        wfi();
        if (ipis[h] > n) {
            n = ipis[h];
            ack = n;
        }
    }
    csr_clear(mstatus, MSTATUS_MIE);
    /* and send one back */
    mmio_w32(CLINT_MSIP(0), 1);
    while (!go)
        ;
    bump();
    fence();
    done[h] = 1;
}

int main(void)
{
    pr("ipi: start\n");
    m_hook = ipi_hook;
    hart_start(1, hart1_main);
    for (long i = 0; i < 100000000 && !started; i++)
        ;
    pr("hart 1 started=%d reports mhartid=%d\n", started, started_id);
    CHECK_EQ(started, 1);
    CHECK_EQ(started_id, 1);
    if (!started)
        return 1;

    for (unsigned long r = 1; r <= ROUNDS; r++) {
        mmio_w32(CLINT_MSIP(1), 1);
        for (long i = 0; i < 100000000 && ack < r; i++)
            ;
        pr("round %d: hart 1 acked=%d\n", r, ack);
        CHECK_EQ(ack, r);
    }
    csr_write(mie, MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (long i = 0; i < 100000000 && !ipis[0]; i++)
        wfi();
    csr_clear(mstatus, MSTATUS_MIE);
    csr_write(mie, 0);
    pr("hart 0 got %d ipi from hart 1, msip0=%d\n", ipis[0],
       mmio_r32(CLINT_MSIP(0)));
    CHECK_EQ(ipis[0], 1);

    go = 1;
    bump();
    for (long i = 0; i < 100000000 && !done[1]; i++)
        ;
    fence();
    pr("amoadd total=%d lr/sc total=%d\n", amo_counter, lrsc_counter);
    CHECK_EQ(amo_counter, 2 * ADDS);
    CHECK_EQ(lrsc_counter, 2 * ADDS);
    no_traps();
    return 0;
}
