/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for address translation and PMP (src/cpu/riscv/mmu.c) on
 * hand-built page tables, following the privileged spec's "Supervisor-
 * Level ISA" chapter (Sv39/Sv48/Sv57, "Virtual Address Translation
 * Process"), Svpbmt, and "Physical Memory Protection": leaves at every
 * level, misaligned superpages, hardware A/D updates, U pages from S with
 * and without SUM, fetches from U pages in S, MXR, non-canonical
 * addresses, read-only pages, reserved PTE encodings, PBMT without
 * menvcfg.PBMTE, SFENCE.VMA after a PTE change, MPRV, and PMP denials as
 * access faults. Page faults report the virtual address in mtval.
 */
#include "harness.h"
#include "rvtest.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define RWX   (PTE_R | PTE_W | PTE_X)
#define AD    (PTE_A | PTE_D)

#define ROOT  (RVT_RAM_BASE + 0x20000)
#define PT1   (RVT_RAM_BASE + 0x21000)
#define PT2   (RVT_RAM_BASE + 0x22000)
#define PT3   (RVT_RAM_BASE + 0x23000)
#define PT4   (RVT_RAM_BASE + 0x24000)
#define DATA1 (RVT_RAM_BASE + 0x40000)
#define DATA2 (RVT_RAM_BASE + 0x41000)

static uint64_t pte(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << 10) | flags;
}

static void set_pte(struct rvt *t, uint64_t table, unsigned idx, uint64_t v)
{
    rvt_write64(t, table + 8ull * idx, v);
}

static uint64_t get_pte(struct rvt *t, uint64_t table, unsigned idx)
{
    return rvt_read64(t, table + 8ull * idx);
}

/*
 * Sv39 machine: root[2] maps VA 0x80000000 (1 GiB) to itself, RWX, not U,
 * so S code, trap vectors and RAM are identity-mapped; root[0] -> PT1 ->
 * PT2 for 4 KiB pages at VA 0..2 MiB; PT2[5] maps VA 0x5000 to DATA1.
 */
static void sv39(struct rvt *t)
{
    rvt_init(t);
    set_pte(t, ROOT, 2, pte(RVT_RAM_BASE, RWX | AD | PTE_V));
    set_pte(t, ROOT, 0, pte(PT1, PTE_V));
    set_pte(t, PT1, 0, pte(PT2, PTE_V));
    set_pte(t, PT2, 5, pte(DATA1, PTE_R | PTE_W | AD | PTE_V));
    rvt_write64(t, DATA1 + 8, 0x1111111111111111ull);
    rvt_write64(t, DATA1 + 0x10, 0x2222222222222222ull);
    rvt_write64(t, DATA1 + 0x18, 0x3333333333333333ull);
    rvt_write64(t, DATA2 + 8, 0x4444444444444444ull);
    t->h->satp = (8ull << 60) | (ROOT >> 12);
    rv_tlb_flush(t->h);
}

/* Run prog in S-mode from RVT_CODE (identity-mapped). */
static bool run_s(struct rvt *t, const uint32_t *prog, unsigned n)
{
    rvt_load(t, RVT_CODE, prog, n);
    t->h->pc = RVT_CODE;
    rv_set_priv(t->h, RV_PRIV_S);
    return rvt_run(t, 50);
}

#define RUN_S(t, ...)                             \
    run_s((t), (const uint32_t[]){ __VA_ARGS__ }, \
          sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

/* ld x3, 0(x1) in S; true if it did not trap. */
static bool s_load(struct rvt *t, uint64_t va)
{
    t->h->x[1] = va;
    t->h->x[3] = 0xbad;
    CHECK(RUN_S(t, I_LD(3, 1, 0)));
    return t->h->pc == RVT_CODE + 4;
}

/* sd x2, 0(x1) in S; true if it did not trap. */
static bool s_store(struct rvt *t, uint64_t va, uint64_t val)
{
    t->h->x[1] = va;
    t->h->x[2] = val;
    CHECK(RUN_S(t, I_SD(2, 1, 0)));
    return t->h->pc == RVT_CODE + 4;
}

static void check_fault(struct rvt *t, unsigned cause, uint64_t tval)
{
    CHECK(rvt_in_mtrap(t));
    CHECK_EQ(t->h->mcause, cause);
    CHECK_EQ(t->h->mtval, tval);
}

TEST(sv39_leaves_at_each_level)
{
    struct rvt t;
    sv39(&t);
    /* 2 MiB leaf: VA 0x200000 -> PA 0x80000000 */
    set_pte(&t, PT1, 1, pte(RVT_RAM_BASE, PTE_R | AD | PTE_V));
    /* 1 GiB leaf: VA 0x40000000 -> PA 0x80000000 */
    set_pte(&t, ROOT, 1, pte(RVT_RAM_BASE, PTE_R | AD | PTE_V));
    CHECK(s_load(&t, 0x5008));
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    CHECK(s_load(&t, 0x200000 + 0x40010));
    CHECK_EQ(t.h->x[3], 0x2222222222222222ull);
    CHECK(s_load(&t, 0x40000000 + 0x40018));
    CHECK_EQ(t.h->x[3], 0x3333333333333333ull);
    /* a store through the 4 KiB page lands in DATA1 */
    CHECK(s_store(&t, 0x5010, 0xabcdef));
    CHECK_EQ(rvt_read64(&t, DATA1 + 0x10), 0xabcdef);
    /* unmapped: V = 0 */
    CHECK(!s_load(&t, 0x6000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x6000);
    CHECK(!s_store(&t, 0x6008, 1));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x6008);
    rvt_free(&t);
}

TEST(misaligned_superpages_fault)
{
    struct rvt t;
    sv39(&t);
    /* 2 MiB leaf whose PPN is only 4 KiB aligned */
    set_pte(&t, PT1, 2, pte(RVT_RAM_BASE + 0x1000, PTE_R | AD | PTE_V));
    CHECK(!s_load(&t, 0x400008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x400008);
    /* 1 GiB leaf whose PPN is only 2 MiB aligned */
    set_pte(&t, ROOT, 1, pte(RVT_RAM_BASE + 0x200000, PTE_R | AD | PTE_V));
    CHECK(!s_load(&t, 0x40000000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x40000000);
    CHECK(!s_store(&t, 0x40000010, 0));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x40000010);
    rvt_free(&t);
}

TEST(accessed_dirty_set_by_hardware)
{
    struct rvt t;
    sv39(&t);
    set_pte(&t, PT2, 5, pte(DATA1, PTE_R | PTE_W | PTE_V));
    CHECK(s_load(&t, 0x5008));
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    CHECK_EQ(get_pte(&t, PT2, 5) & AD, PTE_A);
    CHECK(s_store(&t, 0x5008, 7));
    CHECK_EQ(get_pte(&t, PT2, 5) & AD, AD);
    CHECK_EQ(rvt_read64(&t, DATA1 + 8), 7);
    /* a store to a clean page that is already in the TLB for reads
     * still sets D */
    set_pte(&t, PT2, 6, pte(DATA2, PTE_R | PTE_W | PTE_V));
    CHECK(s_load(&t, 0x6008));
    CHECK_EQ(get_pte(&t, PT2, 6) & AD, PTE_A);
    CHECK(s_store(&t, 0x6008, 9));
    CHECK_EQ(get_pte(&t, PT2, 6) & AD, AD);
    /* non-leaf entries are not marked */
    CHECK_EQ(get_pte(&t, ROOT, 0) & AD, 0);
    CHECK_EQ(get_pte(&t, PT1, 0) & AD, 0);
    rvt_free(&t);
}

TEST(user_pages_and_sum)
{
    struct rvt t;
    sv39(&t);
    set_pte(&t, PT2, 7, pte(DATA2, RWX | PTE_U | AD | PTE_V));
    /* S without SUM: load and store fault */
    t.h->mstatus &= ~MSTATUS_SUM;
    CHECK(!s_load(&t, 0x7008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x7008);
    CHECK(!s_store(&t, 0x7010, 1));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x7010);
    /* with SUM: allowed */
    t.h->mstatus |= MSTATUS_SUM;
    CHECK(s_load(&t, 0x7008));
    CHECK_EQ(t.h->x[3], 0x4444444444444444ull);
    CHECK(s_store(&t, 0x7010, 5));
    CHECK_EQ(rvt_read64(&t, DATA2 + 0x10), 5);
    /* clearing SUM through sstatus takes effect for the next access even
     * though the page is in the TLB */
    t.h->x[5] = MSTATUS_SUM;
    t.h->x[1] = 0x7008;
    CHECK(RUN_S(&t, I_LD(3, 1, 0), I_CSRRC(0, 0x100, 5), I_LD(4, 1, 0)));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x7008);
    CHECK_EQ(t.h->mepc, RVT_CODE + 8);

    /* a fetch from a U page in S faults even with SUM */
    t.h->mstatus |= MSTATUS_SUM;
    t.h->x[6] = 0x7000;
    rvt_write32(&t, DATA2, I_NOP);
    CHECK(RUN_S(&t, I_JALR(0, 6, 0)));
    check_fault(&t, RV_EXC_INSN_PAGE, 0x7000);
    CHECK_EQ(t.h->mepc, 0x7000);

    /* U may use the U page, but not an S page */
    set_pte(&t, ROOT, 3, pte(RVT_RAM_BASE, RWX | PTE_U | AD | PTE_V));
    rvt_load(&t, RVT_CODE + 0x100,
             (const uint32_t[]){ I_LD(3, 1, 0), I_LD(4, 2, 0) }, 2);
    t.h->pc = 0xc0000000ull + 0x100;
    t.h->x[1] = 0x7008;
    t.h->x[2] = 0x5008;
    rv_set_priv(t.h, RV_PRIV_U);
    CHECK(rvt_run(&t, 20));
    CHECK_EQ(t.h->x[3], 0x4444444444444444ull);
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x5008);
    CHECK_EQ(t.h->mepc, 0xc0000104ull);
    CHECK_EQ((t.h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, RV_PRIV_U);
    /* U fetch from an S page */
    t.h->pc = 0x80000000ull;
    rv_set_priv(t.h, RV_PRIV_U);
    CHECK(rvt_run(&t, 20));
    check_fault(&t, RV_EXC_INSN_PAGE, 0x80000000ull);
    rvt_free(&t);
}

TEST(mxr)
{
    struct rvt t;
    sv39(&t);
    /* execute-only page */
    set_pte(&t, PT2, 8, pte(DATA2, PTE_X | AD | PTE_V));
    t.h->mstatus &= ~MSTATUS_MXR;
    CHECK(!s_load(&t, 0x8008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x8008);
    t.h->mstatus |= MSTATUS_MXR;
    CHECK(s_load(&t, 0x8008));
    CHECK_EQ(t.h->x[3], 0x4444444444444444ull);
    /* MXR does not make it writable */
    CHECK(!s_store(&t, 0x8008, 1));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x8008);
    /* clearing MXR again through sstatus: loads fault again */
    t.h->x[5] = MSTATUS_MXR;
    t.h->x[1] = 0x8008;
    CHECK(RUN_S(&t, I_LD(3, 1, 0), I_CSRRC(0, 0x100, 5), I_LD(4, 1, 0)));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x8008);
    CHECK_EQ(t.h->mepc, RVT_CODE + 8);
    rvt_free(&t);
}

TEST(non_canonical_addresses)
{
    struct rvt t;
    sv39(&t);
    /* Sv39: bits 63:39 must equal bit 38 */
    CHECK(!s_load(&t, 0x0000008000000000ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x0000008000000000ull);
    CHECK(!s_load(&t, 0xffffff0000005008ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xffffff0000005008ull);
    CHECK(!s_store(&t, 0x8000000000005008ull, 0));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x8000000000005008ull);
    t.h->x[6] = 0x0000100000000000ull;
    CHECK(RUN_S(&t, I_JALR(0, 6, 0)));
    check_fault(&t, RV_EXC_INSN_PAGE, 0x0000100000000000ull);
    /* the canonical top half works: root[511] -> VA 0xffffffffc0000000 */
    set_pte(&t, ROOT, 511, pte(RVT_RAM_BASE, PTE_R | AD | PTE_V));
    CHECK(s_load(&t, 0xffffffffc0000000ull + 0x40008));
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    rvt_free(&t);
}

TEST(read_only_and_reserved_ptes)
{
    struct rvt t;
    sv39(&t);
    /* store to a read-only page: store page fault (15) */
    set_pte(&t, PT2, 9, pte(DATA2, PTE_R | AD | PTE_V));
    CHECK(s_load(&t, 0x9008));
    CHECK(!s_store(&t, 0x9008, 1));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x9008);
    CHECK_EQ(rvt_read64(&t, DATA2 + 8), 0x4444444444444444ull);
    /* an AMO to it is a store page fault as well */
    t.h->x[1] = 0x9008;
    CHECK(RUN_S(&t, enc_r(0x2f, 3, 3, 1, 2, 0)));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x9008);

    /* W without R is reserved */
    set_pte(&t, PT2, 10, pte(DATA2, PTE_W | AD | PTE_V));
    CHECK(!s_load(&t, 0xa000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xa000);
    set_pte(&t, PT2, 10, pte(DATA2, PTE_W | PTE_X | AD | PTE_V));
    CHECK(!s_load(&t, 0xa000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xa000);
    /* reserved bits 60:54 */
    for (unsigned b = 54; b <= 60; b++) {
        set_pte(&t, PT2, 11, pte(DATA2, PTE_R | AD | PTE_V) | (1ull << b));
        CHECK(!s_load(&t, 0xb000));
        check_fault(&t, RV_EXC_LOAD_PAGE, 0xb000);
    }
    /* N (Svnapot is not implemented) */
    set_pte(&t, PT2, 11, pte(DATA2, PTE_R | AD | PTE_V) | (1ull << 63));
    CHECK(!s_load(&t, 0xb000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xb000);
    /* a non-leaf PTE at the last level */
    set_pte(&t, PT2, 12, pte(DATA2, PTE_V));
    CHECK(!s_load(&t, 0xc000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xc000);
    /* the valid bit clear with everything else set */
    set_pte(&t, PT2, 13, pte(DATA2, RWX | AD));
    CHECK(!s_load(&t, 0xd000));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xd000);
    rvt_free(&t);
}

TEST(pbmt)
{
    struct rvt t;
    sv39(&t);
    /* PBMT = NC (1) with menvcfg.PBMTE = 0: page fault */
    set_pte(&t, PT2, 14, pte(DATA2, PTE_R | AD | PTE_V) | (1ull << 61));
    t.h->menvcfg &= ~MENVCFG_PBMTE;
    CHECK(!s_load(&t, 0xe008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xe008);
    /* with PBMTE: allowed */
    t.h->menvcfg |= MENVCFG_PBMTE;
    rv_tlb_flush(t.h);
    CHECK(s_load(&t, 0xe008));
    CHECK_EQ(t.h->x[3], 0x4444444444444444ull);
    /* IO (2) likewise allowed; 3 is reserved */
    set_pte(&t, PT2, 14, pte(DATA2, PTE_R | AD | PTE_V) | (2ull << 61));
    rv_tlb_flush(t.h);
    CHECK(s_load(&t, 0xe008));
    set_pte(&t, PT2, 14, pte(DATA2, PTE_R | AD | PTE_V) | (3ull << 61));
    rv_tlb_flush(t.h);
    CHECK(!s_load(&t, 0xe008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xe008);
    rvt_free(&t);
}

TEST(pbmt_in_non_leaf_faults)
{
    struct rvt t;
    sv39(&t);
    t.h->menvcfg |= MENVCFG_PBMTE;
    CHECK(s_load(&t, 0x5008));
    /* Svpbmt: PBMT bits are reserved in non-leaf PTEs: page fault */
    set_pte(&t, PT1, 0, pte(PT2, PTE_V) | (1ull << 61));
    rv_tlb_flush(t.h);
    CHECK(!s_load(&t, 0x5008));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x5008);
    rvt_free(&t);
}

TEST(sfence_vma_after_pte_change)
{
    struct rvt t;
    sv39(&t);
    t.h->x[1] = 0x5008;
    CHECK(RUN_S(&t, I_LD(3, 1, 0)));
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    /* remap VA 0x5000 to DATA2; after sfence.vma the new mapping holds */
    set_pte(&t, PT2, 5, pte(DATA2, PTE_R | PTE_W | AD | PTE_V));
    CHECK(RUN_S(&t, I_SFENCE_VMA(0, 0), I_LD(4, 1, 0)));
    CHECK_EQ(t.h->x[4], 0x4444444444444444ull);
    /* the address-specific form as well */
    set_pte(&t, PT2, 5, pte(DATA1, PTE_R | PTE_W | AD | PTE_V));
    CHECK(RUN_S(&t, I_LD(3, 1, 0), I_SFENCE_VMA(1, 0), I_LD(4, 1, 0)));
    CHECK_EQ(t.h->x[4], 0x1111111111111111ull);
    /* unmapping: the next access faults after sfence.vma */
    set_pte(&t, PT2, 5, 0);
    CHECK(RUN_S(&t, I_SFENCE_VMA(0, 0), I_LD(4, 1, 0)));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x5008);
    /* making a page read-only: a store after sfence.vma faults */
    set_pte(&t, PT2, 5, pte(DATA1, PTE_R | PTE_W | AD | PTE_V));
    t.h->x[2] = 1;
    CHECK(RUN_S(&t, I_SFENCE_VMA(0, 0), I_SD(2, 1, 0)));
    CHECK_EQ(t.h->pc, RVT_CODE + 8);
    set_pte(&t, PT2, 5, pte(DATA1, PTE_R | AD | PTE_V));
    CHECK(RUN_S(&t, I_SFENCE_VMA(0, 0), I_SD(2, 1, 0)));
    check_fault(&t, RV_EXC_STORE_PAGE, 0x5008);
    rvt_free(&t);
}

TEST(mprv)
{
    struct rvt t;
    sv39(&t);
    /* M with MPRV = 1, MPP = S: loads and stores are translated */
    t.h->mstatus |= MSTATUS_MPRV | (1ull << MSTATUS_MPP_SHIFT);
    rv_update_data_priv(t.h);
    t.h->x[1] = 0x5008;
    RVT_PROG(&t, I_LD(3, 1, 0));
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->priv, RV_PRIV_M);
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    /* ... and a fault is taken in M with the virtual address */
    t.h->x[1] = 0x6008;
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x6008);
    /* without MPRV, M is untranslated */
    t.h->mstatus &= ~MSTATUS_MPRV;
    rv_update_data_priv(t.h);
    t.h->x[1] = DATA1 + 8;
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->x[3], 0x1111111111111111ull);
    rvt_free(&t);
}

TEST(sv48_sv57)
{
    struct rvt t;
    /* Sv48: 4 levels. VA 0x0000_7f80_0000_5008 = vpn3 255, vpn2 0,
     * vpn1 0, vpn0 5. */
    rvt_init(&t);
    set_pte(&t, ROOT, 0, pte(PT1, PTE_V));
    set_pte(&t, PT1, 2, pte(RVT_RAM_BASE, RWX | AD | PTE_V)); /* code */
    set_pte(&t, ROOT, 255, pte(PT2, PTE_V));
    set_pte(&t, PT2, 0, pte(PT3, PTE_V));
    set_pte(&t, PT3, 0, pte(PT4, PTE_V));
    set_pte(&t, PT4, 5, pte(DATA1, PTE_R | AD | PTE_V));
    /* 512 GiB leaf at root[1]: VA 0x80_0000_0000 -> PA 0 */
    set_pte(&t, ROOT, 1, pte(0, PTE_R | AD | PTE_V));
    rvt_write64(&t, DATA1 + 8, 0x5555);
    t.h->satp = (9ull << 60) | (ROOT >> 12);
    rv_tlb_flush(t.h);
    CHECK(s_load(&t, 0x00007f8000005008ull));
    CHECK_EQ(t.h->x[3], 0x5555);
    CHECK(s_load(&t, 0x8000000000ull + DATA1 + 8));
    CHECK_EQ(t.h->x[3], 0x5555);
    /* bit 47 set without sign extension: not canonical for Sv48 */
    CHECK(!s_load(&t, 0x0000800000005008ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x0000800000005008ull);
    /* a 512 GiB leaf whose PPN is not 512 GiB aligned */
    set_pte(&t, ROOT, 1, pte(RVT_RAM_BASE, PTE_R | AD | PTE_V));
    rv_tlb_flush(t.h);
    CHECK(!s_load(&t, 0x8000000000ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x8000000000ull);
    rvt_free(&t);

    /* Sv57: 5 levels; VA 0x00ff_0000_0000_5008 = vpn4 255. The code
     * gigapage: vpn4 0, vpn3 0, vpn2 2. */
    rvt_init(&t);
    set_pte(&t, ROOT, 0, pte(PT1, PTE_V));
    set_pte(&t, PT1, 0, pte(PT2, PTE_V));
    set_pte(&t, PT2, 2, pte(RVT_RAM_BASE, RWX | AD | PTE_V));
    set_pte(&t, ROOT, 255, pte(PT3, PTE_V));
    set_pte(&t, PT3, 0, pte(PT4, PTE_V));
    set_pte(&t, PT4, 0, pte(PT4 + 0x1000, PTE_V));
    set_pte(&t, PT4 + 0x1000, 0, pte(PT4 + 0x2000, PTE_V));
    set_pte(&t, PT4 + 0x2000, 5, pte(DATA1, PTE_R | AD | PTE_V));
    rvt_write64(&t, DATA1 + 8, 0x5757);
    t.h->satp = (10ull << 60) | (ROOT >> 12);
    rv_tlb_flush(t.h);
    CHECK(s_load(&t, 0x00ff000000005008ull));
    CHECK_EQ(t.h->x[3], 0x5757);
    /* sign-extended upper half is canonical but unmapped here */
    CHECK(!s_load(&t, 0xff00000000005008ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0xff00000000005008ull);
    /* bit 56 set without sign extension */
    CHECK(!s_load(&t, 0x0100000000005008ull));
    check_fault(&t, RV_EXC_LOAD_PAGE, 0x0100000000005008ull);
    rvt_free(&t);
}

/* PMP: entry 0 denies DATA1's page (NAPOT 4 KiB, no permissions), entry 1
 * grants everything else. */
static void pmp_deny_data1(struct rvt *t, uint8_t perm, bool lock)
{
    t->h->pmpaddr[0] = (DATA1 >> 2) | 0x1ff; /* NAPOT 4 KiB */
    t->h->pmpcfg[0] = (uint8_t)(0x18 | perm | (lock ? 0x80 : 0));
    t->h->pmpaddr[1] = (1ull << 54) - 1;
    t->h->pmpcfg[1] = 0x1f;
    t->h->pmp_active = true;
    rv_tlb_flush(t->h);
}

TEST(pmp_denials)
{
    struct rvt t;
    rvt_init(&t);
    pmp_deny_data1(&t, 0, false);
    /* S, bare: load -> 5, store -> 7, fetch -> 1; tval = address */
    CHECK(!s_load(&t, DATA1 + 8));
    check_fault(&t, RV_EXC_LOAD_ACCESS, DATA1 + 8);
    CHECK(!s_store(&t, DATA1 + 16, 1));
    check_fault(&t, RV_EXC_STORE_ACCESS, DATA1 + 16);
    t.h->x[6] = DATA1;
    CHECK(RUN_S(&t, I_JALR(0, 6, 0)));
    check_fault(&t, RV_EXC_INSN_ACCESS, DATA1);
    /* neighbours are fine */
    CHECK(s_load(&t, DATA1 + 0x1000));
    CHECK(s_load(&t, DATA1 - 8));
    /* M ignores an unlocked entry */
    RVT_PROG(&t, I_LD(3, 1, 0));
    t.h->pc = RVT_CODE;
    rv_set_priv(t.h, RV_PRIV_M);
    t.h->x[1] = DATA1 + 8;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    /* read-only entry: loads pass, stores fault */
    pmp_deny_data1(&t, 0x1, false);
    CHECK(s_load(&t, DATA1 + 8));
    CHECK(!s_store(&t, DATA1 + 8, 1));
    check_fault(&t, RV_EXC_STORE_ACCESS, DATA1 + 8);
    /* a locked entry binds M too */
    pmp_deny_data1(&t, 0x1, true);
    RVT_PROG(&t, I_LD(3, 1, 0), I_SD(3, 1, 0));
    t.h->pc = RVT_CODE;
    rv_set_priv(t.h, RV_PRIV_M);
    t.h->x[1] = DATA1 + 8;
    CHECK(rvt_run(&t, 10));
    check_fault(&t, RV_EXC_STORE_ACCESS, DATA1 + 8);
    CHECK_EQ(t.h->mepc, RVT_CODE + 4);
    rvt_free(&t);

    /* under translation: PMP checks the physical address; denied page
     * table memory gives an access fault of the original access type */
    sv39(&t);
    pmp_deny_data1(&t, 0, false);
    CHECK(!s_load(&t, 0x5008));
    check_fault(&t, RV_EXC_LOAD_ACCESS, 0x5008);
    t.h->pmpaddr[0] = (PT2 >> 2) | 0x1ff; /* deny the last-level table */
    rv_tlb_flush(t.h);
    CHECK(!s_load(&t, 0x5008));
    check_fault(&t, RV_EXC_LOAD_ACCESS, 0x5008);
    CHECK(!s_store(&t, 0x5008, 1));
    check_fault(&t, RV_EXC_STORE_ACCESS, 0x5008);
    rvt_free(&t);

    /* with PMP entries implemented but none matching, S and U fail
     * (privileged spec 3.7.1); M succeeds */
    rvt_init(&t);
    t.h->pmpaddr[0] = (DATA2 >> 2) | 0x1ff;
    t.h->pmpcfg[0] = 0x18 | 0x7;
    rv_tlb_flush(t.h);
    t.h->x[1] = DATA1;
    RVT_PROG(&t, I_LD(3, 1, 0));
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    rvt_free(&t);
}

/* Page-crossing and misaligned loads through translation fault on the
 * second page with that page's address. */
TEST(pmp_all_off_denies_s_and_u)
{
    struct rvt t;
    rvt_init(&t);
    /* priv spec 3.7.1: entries implemented but none matching (all OFF):
     * S and U accesses fail, M accesses succeed */
    memset(t.h->pmpcfg, 0, sizeof(t.h->pmpcfg));
    t.h->pmp_active = false;
    rv_tlb_flush(t.h);
    RVT_PROG(&t, I_LD(3, 1, 0));
    t.h->x[1] = DATA1;
    rv_set_priv(t.h, RV_PRIV_M);
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    CHECK_EQ(t.h->pc, RVT_CODE + 4);
    rv_set_priv(t.h, RV_PRIV_S);
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 10));
    CHECK(rvt_in_mtrap(&t));
    CHECK_EQ(t.h->mcause, RV_EXC_INSN_ACCESS);
    CHECK_EQ(t.h->mtval, RVT_CODE);
    rvt_free(&t);
}

TEST(page_crossing_fault)
{
    struct rvt t;
    sv39(&t);
    t.h->x[1] = 0x5ffc; /* 8 bytes: 4 in the mapped page, 4 in 0x6000 */
    CHECK(RUN_S(&t, I_LD(3, 1, 0)));
    CHECK(rvt_in_mtrap(&t));
    /* either a misaligned-load exception at the address or a page fault
     * somewhere in the unmapped page */
    if (t.h->mcause == RV_EXC_LOAD_PAGE) {
        CHECK(t.h->mtval >= 0x6000 && t.h->mtval < 0x6004);
    } else {
        CHECK_EQ(t.h->mcause, RV_EXC_LOAD_MISALIGNED);
        CHECK_EQ(t.h->mtval, 0x5ffc);
    }
    rvt_free(&t);
}

int main(void)
{
    RUN(sv39_leaves_at_each_level);
    RUN(misaligned_superpages_fault);
    RUN(accessed_dirty_set_by_hardware);
    RUN(user_pages_and_sum);
    RUN(mxr);
    RUN(non_canonical_addresses);
    RUN(read_only_and_reserved_ptes);
    RUN(pbmt);
    RUN(pbmt_in_non_leaf_faults);
    RUN(sfence_vma_after_pte_change);
    RUN(mprv);
    RUN(sv48_sv57);
    RUN(pmp_denials);
    RUN(pmp_all_off_denies_s_and_u);
    RUN(page_crossing_fault);
    HARNESS_END();
}
