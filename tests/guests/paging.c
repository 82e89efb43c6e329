/* SPDX-License-Identifier: MIT */
/*
 * Virtual memory with hand-built page tables, for each of Sv39, Sv48 and
 * Sv57 that satp accepts: 4 KiB, 2 MiB and 1 GiB leaves, misaligned
 * superpages, A/D updates (printed: hardware update or page fault), page
 * faults 12/13/15 with tval = the virtual address, reserved W-without-R,
 * non-canonical addresses, U/SUM/MXR, MPRV with MPP=S, and sfence.vma
 * after a PTE change. Low memory and DRAM are identity-mapped with 1 GiB
 * pages; test mappings live at VBASE.
 */
#include "lib.h"

#define PTE_V  1UL
#define PTE_R  2UL
#define PTE_W  4UL
#define PTE_X  8UL
#define PTE_U  16UL
#define PTE_G  32UL
#define PTE_A  64UL
#define PTE_D  128UL
#define VBASE  0x2000000000UL
#define BIG_PA 0x80400000UL /* 2 MiB-aligned RAM well above the program */

static uint64_t pool[24][512] __attribute__((aligned(4096)));
static int npool, levels;
static uint64_t *root;
static uint8_t dpages[8][4096] __attribute__((aligned(4096)));
static volatile uint64_t marker = 0x5eed5eed12345678UL;

static uint64_t *alloc_pt(void)
{
    uint64_t *t = pool[npool++];
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return t;
}

static uint64_t *map(uint64_t va, uint64_t pa, int lvl, uint64_t flags)
{
    uint64_t *t = root;
    for (int l = levels - 1; l > lvl; l--) {
        unsigned idx = (va >> (12 + 9 * l)) & 511;
        if (!(t[idx] & PTE_V))
            t[idx] = (((uint64_t)alloc_pt() >> 12) << 10) | PTE_V;
        t = (uint64_t *)((t[idx] >> 10) << 12);
    }
    unsigned idx = (va >> (12 + 9 * lvl)) & 511;
    t[idx] = ((pa >> 12) << 10) | flags;
    return &t[idx];
}

static void sfence(void)
{
    asm volatile("sfence.vma" ::: "memory");
}

static const char *mname(int m)
{
    return m == PRV_U ? "U" : "S";
}

static void show_addr(unsigned long a)
{
    if (a >= VBASE && a < VBASE + 0x100000000UL)
        pr("VBASE+0x%x", a - VBASE);
    else
        pr("0x%x", a);
}

static void acc(const char *what, int mode, void *fn, unsigned long va,
                long val, long expect)
{
    expect_traps();
    long r = run_lower(mode, fn, (long)va, val);
    no_traps();
    pr("  %s %s ", mname(mode), what);
    show_addr(va);
    if (r == (long)TRAPPED) {
        pr(": fault cause=%d tval=", last_trap.cause);
        show_addr(last_trap.tval);
        pr("\n");
        CHECK_EQ(last_trap.cause, expect);
        CHECK_EQ(last_trap.tval, va);
    } else {
        if (fn == (void *)lo_jump)
            pr(": ok\n");
        else
            pr(": ok 0x%x\n", r);
        CHECK_EQ(expect, -1);
    }
}

static void ad_bits(const char *when, uint64_t *pte)
{
    pr("  A/D after %s: A=%d D=%d\n", when, !!(*pte & PTE_A), !!(*pte & PTE_D));
}

static void run_mode(int mode, const char *name)
{
    npool = 0;
    levels = mode - 5; /* 8 -> 3, 9 -> 4, 10 -> 5 */
    root = alloc_pt();
    unsigned long satp = ((unsigned long)mode << 60) | ((uint64_t)root >> 12);
    csr_write(satp, satp);
    unsigned long rb = csr_read(satp);
    csr_write(satp, 0);
    if (rb != satp) {
        pr("%s: satp readback 0x%x: unsupported\n", name, rb >> 60);
        return;
    }
    pr("%s: satp accepted\n", name);

    const uint64_t RWX = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D | PTE_V;
    map(0, 0, 2, RWX | PTE_G);
    uint64_t *ram = map(0x80000000UL, 0x80000000UL, 2, RWX | PTE_G);
    uint64_t *p0 =
        map(VBASE + 0x0000, (uint64_t)dpages[0], 0, PTE_V | PTE_R | PTE_W);
    map(VBASE + 0x1000, (uint64_t)dpages[1], 0, PTE_V | PTE_R | PTE_A | PTE_D);
    map(VBASE + 0x2000, (uint64_t)dpages[2], 0, PTE_V | PTE_X | PTE_A);
    map(VBASE + 0x3000, (uint64_t)dpages[3], 0,
        PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D);
    map(VBASE + 0x4000, (uint64_t)dpages[4], 0, PTE_V | PTE_W | PTE_A);
    uint64_t *p6 =
        map(VBASE + 0x6000, (uint64_t)dpages[5], 0, PTE_V | PTE_R | PTE_A);
    map(VBASE + 0x200000, BIG_PA, 1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    map(VBASE + 0x400000, BIG_PA + 0x1000, 1, PTE_V | PTE_R | PTE_A);
    map(VBASE + 0x40000000, 0x80000000UL, 2, PTE_V | PTE_R | PTE_A);
    for (int p = 0; p < 8; p++)
        for (int i = 0; i < 4096; i += 8)
            *(uint64_t *)&dpages[p][i] = 0x10000 * (p + 1) + i;
    for (int i = 0; i < 4096; i += 4)
        *(uint32_t *)&dpages[2][i + 0] = 0x00008067; /* ret */
    for (int i = 2048; i < 4096; i += 4)
        *(uint32_t *)&dpages[3][i + 0] = 0x00008067;
    *(volatile uint64_t *)(BIG_PA + 0x1238) = 0xb16b00b5;
    asm volatile("fence.i" ::: "memory");
    csr_write(satp, satp);
    sfence();

    acc("ld", PRV_S, lo_ld, VBASE + 0x8, 0, -1);
    ad_bits("ld", p0);
    acc("sd", PRV_S, lo_sd, VBASE + 0x8, 0x42, -1);
    ad_bits("sd", p0);
    CHECK_EQ(*(uint64_t *)&dpages[0][8], 0x42);
    acc("sd", PRV_S, lo_sd, VBASE + 0x1010, 1, CAUSE_STORE_PAGE);
    acc("amoadd", PRV_S, lo_amoadd, VBASE + 0x1010, 1, CAUSE_STORE_PAGE);
    acc("ld", PRV_S, lo_ld, VBASE + 0x1010, 0, -1);
    acc("ld", PRV_S, lo_ld, VBASE + 0x2010, 0, CAUSE_LOAD_PAGE);
    csr_set(mstatus, MSTATUS_MXR);
    acc("ld MXR=1", PRV_S, lo_ld, VBASE + 0x2010, 0, -1);
    csr_clear(mstatus, MSTATUS_MXR);
    acc("jump", PRV_S, lo_jump, VBASE + 0x2010, 0, -1);
    acc("jump", PRV_S, lo_jump, VBASE + 0x1010, 0, CAUSE_FETCH_PAGE);
    acc("ld", PRV_S, lo_ld, VBASE + 0x3010, 0, CAUSE_LOAD_PAGE);
    csr_set(mstatus, MSTATUS_SUM);
    acc("ld SUM=1", PRV_S, lo_ld, VBASE + 0x3010, 0, -1);
    acc("jump SUM=1", PRV_S, lo_jump, VBASE + 0x3800, 0, CAUSE_FETCH_PAGE);
    csr_clear(mstatus, MSTATUS_SUM);
    acc("ld W-only", PRV_S, lo_ld, VBASE + 0x4010, 0, CAUSE_LOAD_PAGE);
    acc("ld", PRV_S, lo_ld, VBASE + 0x5010, 0, CAUSE_LOAD_PAGE);
    acc("sd", PRV_S, lo_sd, VBASE + 0x5010, 0, CAUSE_STORE_PAGE);
    acc("jump", PRV_S, lo_jump, VBASE + 0x5010, 0, CAUSE_FETCH_PAGE);
    acc("ld 2M", PRV_S, lo_ld, VBASE + 0x201238, 0, -1);
    acc("ld misaligned 2M", PRV_S, lo_ld, VBASE + 0x400008, 0, CAUSE_LOAD_PAGE);
    expect_traps();
    long r =
        run_lower(PRV_S, lo_ld,
                  VBASE + 0x40000000 + ((uint64_t)&marker - 0x80000000UL), 0);
    no_traps();
    pr("  S ld 1G alias of marker: %s\n",
       r == (long)marker ? "ok" : "mismatch");
    CHECK_EQ(r, marker);
    unsigned long noncanon = 1UL << (12 + 9 * levels - 1 + 1);
    if (levels < 5) {
        acc("ld non-canonical", PRV_S, lo_ld, noncanon, 0, CAUSE_LOAD_PAGE);
    }

    /* sfence.vma after changing a PTE */
    acc("ld", PRV_S, lo_ld, VBASE + 0x6000, 0, -1);
    *p6 = (((uint64_t)dpages[6] >> 12) << 10) | PTE_V | PTE_R | PTE_A;
    sfence();
    acc("ld after remap+sfence", PRV_S, lo_ld, VBASE + 0x6000, 0, -1);
    CHECK_EQ(run_lower(PRV_S, lo_ld, VBASE + 0x6000, 0), 0x70000);
    *p6 = 0;
    sfence();
    acc("ld after unmap+sfence", PRV_S, lo_ld, VBASE + 0x6000, 0,
        CAUSE_LOAD_PAGE);

    /* MPRV with MPP=S: M data accesses are translated */
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, (unsigned long)PRV_S << 11);
    long v = mprv_ld(VBASE + 0x10);
    csr_clear(mstatus, MSTATUS_MPP);
    pr("  M MPRV=1 MPP=S ld VBASE+0x10: 0x%x\n", v);
    CHECK_EQ(v, 0x10010);

    /* U-mode: the identity RAM gigapage becomes a U page for the code */
    *ram |= PTE_U;
    sfence();
    acc("ld", PRV_U, lo_ld, VBASE + 0x3018, 0, -1);
    acc("sd", PRV_U, lo_sd, VBASE + 0x3018, 7, -1);
    acc("jump", PRV_U, lo_jump, VBASE + 0x3800, 0, -1);
    acc("ld", PRV_U, lo_ld, VBASE + 0x0018, 0, CAUSE_LOAD_PAGE);
    acc("sd", PRV_U, lo_sd, VBASE + 0x0018, 0, CAUSE_STORE_PAGE);
    acc("jump", PRV_U, lo_jump, VBASE + 0x2000, 0, CAUSE_FETCH_PAGE);
    *ram &= ~PTE_U;
    csr_write(satp, 0);
    sfence();
}

int main(void)
{
    pr("paging: start\n");
    run_mode(8, "sv39");
    run_mode(9, "sv48");
    run_mode(10, "sv57");
    return 0;
}
