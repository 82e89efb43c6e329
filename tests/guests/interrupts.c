/* SPDX-License-Identifier: MIT */
/*
 * Interrupts on hart 0: CLINT mtime/mtimecmp (MTIP) and msip (MSIP),
 * priority between pending interrupts, M interrupts taken from U-mode with
 * mstatus.MIE=0, the PLIC routing the UART THRE interrupt (irq 10) to
 * context 0 (M external) and context 1 (S external, SEIP), claim/complete
 * and threshold, S-mode software/timer interrupts through mideleg, and the
 * Sstc stimecmp CSR when menvcfg.STCE sticks.
 */
#include "lib.h"

#define UART_IER     (UART0_BASE + 1)
#define UART_IIR     (UART0_BASE + 2)
#define CSR_STIMECMP 0x14d
#define CSR_MENVCFG  0x30a
#define ENVCFG_STCE  (1UL << 63)

static volatile unsigned long seq[8], nseq, flag;
static volatile unsigned long iir_seen, claim_seen, prev_seen;

static void seq_add(unsigned long cause)
{
    if (nseq < 8)
        seq[nseq] = cause;
    nseq++;
    flag = 1;
}

static void seq_reset(void)
{
    nseq = 0;
    flag = 0;
}

static void seq_print(const char *what)
{
    pr("%s: n=%d", what, nseq);
    for (unsigned long i = 0; i < nseq && i < 8; i++)
        pr(" %s%d", seq[i] & CAUSE_INTR ? "irq" : "exc", seq[i] & 0xff);
    pr("\n");
}

static int m_intr(struct trap_frame *f)
{
    unsigned long c = f->cause;
    seq_add(c);
    prev_seen = (f->status >> 11) & 3;
    if (c == (CAUSE_INTR | 7)) {
        mmio_w64(CLINT_MTIMECMP(0), ~0UL);
    } else if (c == (CAUSE_INTR | 3)) {
        mmio_w32(CLINT_MSIP(0), 0);
    } else if (c == (CAUSE_INTR | 11)) {
        uint32_t id = mmio_r32(PLIC_CLAIM(0));
        claim_seen = id;
        iir_seen = mmio_r8(UART_IIR);
        mmio_w8(UART_IER, 0);
        mmio_w32(PLIC_CLAIM(0), id);
    } else {
        pr("FAIL unexpected cause 0x%x\n", c);
        finish(98);
    }
    return TRAP_RESUME;
}

static volatile int sstc_on;
static int s_intr(struct trap_frame *f)
{
    unsigned long c = f->cause;
    seq_add(c);
    if (c == (CAUSE_INTR | 1)) {
        csr_clear(sip, MIP_SSIP);
    } else if (c == (CAUSE_INTR | 5)) {
        if (sstc_on)
            asm volatile("csrw 0x14d, %0" ::"r"(~0UL));
        else
            csr_clear(sie, MIP_STIP);
    } else if (c == (CAUSE_INTR | 9)) {
        uint32_t id = mmio_r32(PLIC_CLAIM(1));
        claim_seen = id;
        mmio_w8(UART_IER, 0);
        mmio_w32(PLIC_CLAIM(1), id);
    } else {
        /* cannot print from S; M reports the sequence */
        csr_clear(sie, ~0UL);
    }
    return TRAP_RESUME;
}

static void wait_flag(void)
{
    for (int i = 0; i < 1000000 && !flag; i++)
        wfi();
}

static void test_clint_timer(void)
{
    unsigned long t0 = mmio_r64(CLINT_MTIME);
    unsigned long t1 = csr_read(time);
    for (volatile int i = 0; i < 1000; i++)
        ;
    unsigned long t2 = mmio_r64(CLINT_MTIME);
    pr("mtime advances: %d, time csr matches: %d\n", t2 > t0,
       t1 >= t0 && t1 <= t2);
    CHECK(t2 > t0);
    CHECK(t1 >= t0 && t1 <= t2);

    /* MTIP follows mtimecmp; the spec sets no latency, so allow a few
     * reads for the change to show (QEMU: immediate). */
    csr_write(mie, 0);
    mmio_w64(CLINT_MTIMECMP(0), 0);
    unsigned long p1 = 0, p2 = 1;
    for (int i = 0; i < 100 && !p1; i++)
        p1 = csr_read(mip) & MIP_MTIP;
    mmio_w64(CLINT_MTIMECMP(0), ~0UL);
    for (int i = 0; i < 100 && p2; i++)
        p2 = csr_read(mip) & MIP_MTIP;
    pr("MTIP with mtimecmp=0: %d, with mtimecmp=max: %d\n", !!p1, !!p2);
    CHECK(p1 && !p2);
    CHECK_EQ(mmio_r64(CLINT_MTIMECMP(0)), ~0UL);

    seq_reset();
    m_hook = m_intr;
    mmio_w64(CLINT_MTIMECMP(0), mmio_r64(CLINT_MTIME) + 10000);
    csr_write(mie, MIP_MTIP);
    csr_set(mstatus, MSTATUS_MIE);
    wait_flag();
    csr_clear(mstatus, MSTATUS_MIE);
    seq_print("M timer");
    CHECK_EQ(nseq, 1);
    CHECK_EQ(seq[0], CAUSE_INTR | 7);
    CHECK(mmio_r64(CLINT_MTIME) >= 10000);
}

static void test_msip(void)
{
    csr_write(mie, 0);
    mmio_w32(CLINT_MSIP(0), 1);
    unsigned long rb = mmio_r32(CLINT_MSIP(0));
    unsigned long p = csr_read(mip) & MIP_MSIP;
    pr("msip readback=%d MSIP=%d\n", rb, !!p);
    CHECK_EQ(rb, 1);
    CHECK(p);
    seq_reset();
    csr_write(mie, MIP_MSIP);
    csr_set(mstatus, MSTATUS_MIE);
    wait_flag();
    csr_clear(mstatus, MSTATUS_MIE);
    seq_print("M software");
    CHECK_EQ(nseq, 1);
    CHECK_EQ(seq[0], CAUSE_INTR | 3);
    CHECK(!(csr_read(mip) & MIP_MSIP));

    /* both pending: MSI is taken before MTI */
    csr_write(mie, 0);
    mmio_w32(CLINT_MSIP(0), 1);
    mmio_w64(CLINT_MTIMECMP(0), 0);
    seq_reset();
    csr_write(mie, MIP_MSIP | MIP_MTIP);
    csr_set(mstatus, MSTATUS_MIE);
    asm volatile("nop; nop; nop" ::: "memory");
    csr_clear(mstatus, MSTATUS_MIE);
    seq_print("MSI+MTI order");
    CHECK_EQ(nseq, 2);
    CHECK_EQ(seq[0], CAUSE_INTR | 3);
    CHECK_EQ(seq[1], CAUSE_INTR | 7);

    /* M interrupts preempt U even with mstatus.MIE=0 */
    seq_reset();
    csr_write(mie, MIP_MTIP);
    mmio_w64(CLINT_MTIMECMP(0), mmio_r64(CLINT_MTIME) + 5000);
    long r = run_lower(PRV_U, lo_spin, (long)&flag, 100000000);
    seq_print("M timer from U");
    pr("from mode=%d spin result=%d\n", prev_seen, r);
    CHECK_EQ(prev_seen, PRV_U);
    CHECK_EQ(r, 1);
    csr_write(mie, 0);
}

static void plic_setup(int ctx)
{
    mmio_w32(PLIC_PRIO(UART0_IRQ), 1);
    mmio_w32(PLIC_ENABLE(0, UART0_IRQ), 0);
    mmio_w32(PLIC_ENABLE(1, UART0_IRQ), 0);
    mmio_w32(PLIC_ENABLE(ctx, UART0_IRQ), 1u << (UART0_IRQ % 32));
    mmio_w32(PLIC_THRESHOLD(ctx), 0);
}

static void test_plic_uart(void)
{
    csr_write(mie, 0);
    plic_setup(0);
    unsigned long pr_rb = mmio_r32(PLIC_PRIO(UART0_IRQ));
    unsigned long en_rb = mmio_r32(PLIC_ENABLE(0, UART0_IRQ));
    pr("plic prio readback=%d enable readback=0x%x\n", pr_rb, en_rb);
    CHECK_EQ(pr_rb, 1);
    unsigned long c0 = mmio_r32(PLIC_CLAIM(0));
    pr("claim with nothing pending=%d\n", c0);
    CHECK_EQ(c0, 0);

    /* THR is empty: enabling ETBEI raises the THRE interrupt */
    mmio_w8(UART_IER, 0x02);
    unsigned long pend =
        mmio_r32(PLIC_PENDING(UART0_IRQ)) >> (UART0_IRQ % 32) & 1;
    unsigned long meip = !!(csr_read(mip) & MIP_MEIP);
    mmio_w32(PLIC_THRESHOLD(0), 1);
    unsigned long meip_thr = !!(csr_read(mip) & MIP_MEIP);
    mmio_w32(PLIC_THRESHOLD(0), 0);
    pr("uart THRE: plic pending=%d MEIP=%d MEIP(threshold=1)=%d\n", pend, meip,
       meip_thr);
    CHECK(pend && meip && !meip_thr);

    seq_reset();
    m_hook = m_intr;
    csr_write(mie, MIP_MEIP);
    csr_set(mstatus, MSTATUS_MIE);
    wait_flag();
    csr_clear(mstatus, MSTATUS_MIE);
    seq_print("M external");
    pr("claim=%d uart iir=0x%x MEIP after complete=%d\n", claim_seen,
       iir_seen & 0xf, !!(csr_read(mip) & MIP_MEIP));
    CHECK_EQ(nseq, 1);
    CHECK_EQ(seq[0], CAUSE_INTR | 11);
    CHECK_EQ(claim_seen, UART0_IRQ);
    CHECK_EQ(iir_seen & 0xf, 2);
    CHECK(!(csr_read(mip) & MIP_MEIP));
    csr_write(mie, 0);
}

static void test_s_interrupts(void)
{
    csr_write(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
    pr("mideleg readback (S bits)=0x%x\n", csr_read(mideleg) & 0x222);
    csr_write(stvec, s_trap_entry);
    s_hook = s_intr;
    m_hook = 0;
    csr_write(mie, MIP_SSIP | MIP_STIP | MIP_SEIP);

    /* SSIP set by M */
    seq_reset();
    csr_set(mip, MIP_SSIP);
    long r = run_lower(PRV_S, lo_wait_flag, (long)&flag, 1000000);
    seq_print("S software");
    CHECK_EQ(r, 1);
    CHECK_EQ(seq[0], CAUSE_INTR | 1);

    /* STIP set by M (Sstc off) */
    csr_write(CSR_MENVCFG, 0);
    seq_reset();
    csr_set(mip, MIP_STIP);
    r = run_lower(PRV_S, lo_wait_flag, (long)&flag, 1000000);
    csr_clear(mip, MIP_STIP);
    seq_print("S timer via mip.STIP");
    CHECK_EQ(r, 1);
    CHECK_EQ(seq[0], CAUSE_INTR | 5);
    csr_set(mie, MIP_STIP);

    /* SEIP from PLIC context 1 */
    plic_setup(1);
    mmio_w8(UART_IER, 0x02);
    unsigned long seip = !!(csr_read(mip) & MIP_SEIP);
    seq_reset();
    claim_seen = 0;
    r = run_lower(PRV_S, lo_wait_flag, (long)&flag, 1000000);
    seq_print("S external");
    pr("SEIP before=%d claim=%d SEIP after=%d\n", seip, claim_seen,
       !!(csr_read(mip) & MIP_SEIP));
    CHECK(seip);
    CHECK_EQ(claim_seen, UART0_IRQ);
    CHECK_EQ(seq[0], CAUSE_INTR | 9);
    mmio_w32(PLIC_ENABLE(1, UART0_IRQ), 0);

    /* Sstc */
    csr_write(CSR_MENVCFG, ENVCFG_STCE);
    sstc_on = (csr_read(CSR_MENVCFG) & ENVCFG_STCE) != 0;
    pr("menvcfg.STCE sticks (Sstc): %d\n", sstc_on);
    if (sstc_on) {
        csr_write(mcounteren, 2);
        asm volatile("csrw 0x14d, %0" ::"r"(~0UL));
        unsigned long stip0 = !!(csr_read(mip) & MIP_STIP);
        asm volatile("csrw 0x14d, %0" ::"r"(0UL));
        unsigned long stip1 = !!(csr_read(mip) & MIP_STIP);
        pr("STIP with stimecmp=max: %d, =0: %d\n", stip0, stip1);
        CHECK(!stip0 && stip1);
        seq_reset();
        asm volatile("csrw 0x14d, %0" ::"r"(csr_read(time) + 5000));
        r = run_lower(PRV_S, lo_wait_flag, (long)&flag, 100000000);
        seq_print("S timer via stimecmp");
        CHECK_EQ(r, 1);
        CHECK_EQ(seq[0], CAUSE_INTR | 5);
        CHECK(!(csr_read(mip) & MIP_STIP));
        csr_write(mcounteren, 0);
        csr_write(CSR_MENVCFG, 0);
    }
    csr_write(mie, 0);
    csr_write(mideleg, 0);
    no_traps();
}

int main(void)
{
    pr("interrupts: start\n");
    test_clint_timer();
    test_msip();
    test_plic_uart();
    test_s_interrupts();
    no_traps();
    return 0;
}
