/* SPDX-License-Identifier: MIT */
/*
 * Physical memory protection: S/U accesses checked against NA4, NAPOT and
 * TOR entries with R/W/X in pieces (priority by index, no match = fault
 * once any entry is set), access faults 1/5/7 with tval = address, M-mode
 * unaffected by unlocked entries, MPRV=1 with MPP=U applying U rules to M
 * loads, and locked entries applying to M and ignoring writes.
 */
#include "lib.h"

static uint8_t pages[4][4096] __attribute__((aligned(4096)));
#define PA ((unsigned long)pages[0]) /* R */
#define PB ((unsigned long)pages[1]) /* RW, except NA4 at PB+8: R */
#define PC ((unsigned long)pages[2]) /* no access */
#define PD ((unsigned long)pages[3]) /* X only */

static const char *where(unsigned long a)
{
    static const char *n[] = { "A", "B", "C", "D" };
    if (a >= PA && a < PA + sizeof(pages))
        return n[(a - PA) / 4096];
    return "other";
}

static void try(const char *what, int mode, void *fn, unsigned long addr,
                long val, long expect)
{
    expect_traps();
    long r = run_lower(mode, fn, (long)addr, val);
    no_traps();
    pr("%s %s %s+0x%x: ", mode == PRV_U ? "U" : "S", what, where(addr),
       addr >= PA && addr < PA + sizeof(pages) ? addr & 0xfff : 0);
    if (r == (long)TRAPPED) {
        int tval_ok = last_trap.tval == addr;
        pr("fault cause=%d tval=%s\n", last_trap.cause,
           tval_ok ? "addr" : "other");
        CHECK_EQ(last_trap.cause, expect);
        CHECK(tval_ok);
    } else {
        if (fn == (void *)lo_jump)
            pr("ok\n");
        else
            pr("ok value=0x%x\n", r);
        CHECK_EQ(expect, -1);
    }
}

static void program(void)
{
    pmp_set(0, (PB + 8) >> 2, PMP_NA4 | PMP_R);
    pmp_set(1, pmp_napot(PA, 4096), PMP_NAPOT | PMP_R);
    pmp_set(2, pmp_napot(PB, 4096), PMP_NAPOT | PMP_R | PMP_W);
    pmp_set(3, pmp_napot(PC, 4096), PMP_NAPOT);
    pmp_set(4, pmp_napot(PD, 4096), PMP_NAPOT | PMP_X);
    pmp_set(5, (unsigned long)_text_start >> 2, 0);
    pmp_set(6, (unsigned long)_text_end >> 2, PMP_TOR | PMP_R | PMP_X);
    pmp_set(15, 0, 0);
}

int main(void)
{
    pr("pmp: start\n");
    for (int p = 0; p < 4; p++)
        for (int i = 0; i < 4096; i += 8)
            *(uint64_t *)&pages[p][i] = 0x1000 * (p + 1) + i;
    /* page D: "ret" instructions */
    for (int i = 0; i < 4096; i += 4)
        *(uint32_t *)&pages[3][i] = 0x00008067;
    asm volatile("fence.i" ::: "memory");

    program();
    pr("pmpcfg0=0x%x pmpcfg2=0x%x\n", csr_read(pmpcfg0), csr_read(pmpcfg2));
    pr("pmpaddr1 napot low bits=0x%x pmpaddr0 is PB+8: %d\n",
       csr_read(pmpaddr1) & 0x3ff, csr_read(pmpaddr0) == (PB + 8) >> 2);

    for (int m = PRV_U; m <= PRV_S; m++) {
        try("ld", m, lo_ld, PA + 0x10, 0, -1);
        try("sd", m, lo_sd, PA + 0x10, 1, CAUSE_STORE_ACCESS);
        try("amoadd", m, lo_amoadd, PA + 0x18, 1, CAUSE_STORE_ACCESS);
        try("ld", m, lo_ld, PB + 0x20, 0, -1);
        try("sd", m, lo_sd, PB + 0x20, 0x77, -1);
        try("ld", m, lo_ld, PB + 0x20, 0, -1);
        try("lw", m, lo_lw, PB + 8, 0, -1);
        /* 8 bytes at PB+8 only partly match the NA4 entry: fault */
        try("ld", m, lo_ld, PB + 8, 0, CAUSE_LOAD_ACCESS);
        try("sd", m, lo_sd, PB + 8, 2, CAUSE_STORE_ACCESS);
        try("sd", m, lo_sd, PB + 0, 3, -1);
        try("lw", m, lo_lw, PB + 12, 0, -1);
        try("ld", m, lo_ld, PC + 0x100, 0, CAUSE_LOAD_ACCESS);
        try("sd", m, lo_sd, PC + 0x100, 4, CAUSE_STORE_ACCESS);
        try("jump", m, lo_jump, PA + 0x40, 0, CAUSE_FETCH_ACCESS);
        try("jump", m, lo_jump, PC, 0, CAUSE_FETCH_ACCESS);
        try("jump", m, lo_jump, PD + 0x80, 0, -1);
        try("ld", m, lo_ld, PD + 0x80, 0, CAUSE_LOAD_ACCESS);
        try("ld", m, lo_ld, (unsigned long)&pages[0][0] + sizeof(pages), 0,
            CAUSE_LOAD_ACCESS);
    }

    /* M-mode ignores unlocked entries */
    uint64_t v = *(volatile uint64_t *)(PC + 0x100);
    *(volatile uint64_t *)(PC + 0x100) = v + 1;
    pr("M ld/sd C: ok value=0x%x\n", v);
    CHECK_EQ(v, 0x3100);

    /* MPRV=1, MPP=U: M loads and stores use U permissions */
    expect_traps();
    csr_clear(mstatus, MSTATUS_MPP);
    v = mprv_ld(PA + 0x28);
    unsigned long n0 = last_trap.count;
    csr_clear(mstatus, MSTATUS_MPP);
    mprv_ld(PC + 0x28);
    unsigned long n1 = last_trap.count, c1 = last_trap.cause,
                  t1 = last_trap.tval;
    csr_clear(mstatus, MSTATUS_MPP);
    mprv_sd(PA + 0x28, 5);
    unsigned long n2 = last_trap.count, c2 = last_trap.cause;
    no_traps();
    pr("M MPRV=1 MPP=U: ld A traps=%d (0x%x), ld C cause=%d tval-ok=%d, "
       "sd A cause=%d\n",
       n0, v, c1, t1 == PC + 0x28, c2);
    CHECK(n0 == 0 && n1 == 1 && n2 == 2);
    CHECK_EQ(c1, CAUSE_LOAD_ACCESS);
    CHECK_EQ(c2, CAUSE_STORE_ACCESS);

    /* locked R-only entry on C applies to M; its cfg/addr stay put */
    pmp_set(3, pmp_napot(PC, 4096), PMP_NAPOT | PMP_R | PMP_L);
    unsigned long cfg = csr_read(pmpcfg0);
    pmp_set(3, pmp_napot(PD, 4096), PMP_NAPOT | PMP_R | PMP_W | PMP_X);
    unsigned long cfg2 = csr_read(pmpcfg0);
    unsigned long a3 = csr_read(pmpaddr3);
    pr("locked entry: cfg3=0x%x after rewrite=0x%x addr unchanged=%d\n",
       (cfg >> 24) & 0xff, (cfg2 >> 24) & 0xff, a3 == pmp_napot(PC, 4096));
    CHECK_EQ((cfg2 >> 24) & 0xff, PMP_NAPOT | PMP_R | PMP_L);
    CHECK_EQ(a3, pmp_napot(PC, 4096));
    expect_traps();
    v = *(volatile uint64_t *)(PC + 0x30);
    n0 = last_trap.count;
    *(volatile uint64_t *)(PC + 0x30) = 9;
    no_traps();
    pr("M with locked R entry: ld C traps=%d (0x%x), sd C cause=%d "
       "tval-ok=%d\n",
       n0, v, last_trap.cause, last_trap.tval == PC + 0x30);
    CHECK_EQ(n0, 0);
    CHECK_EQ(last_trap.count, 1);
    CHECK_EQ(last_trap.cause, CAUSE_STORE_ACCESS);
    return 0;
}
