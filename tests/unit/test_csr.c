/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for CSR access (src/cpu/riscv/csr.c) through real CSR
 * instructions, against the privileged spec (chapter 2 "Control and Status
 * Registers", 3.1 "Machine-Level CSRs", 4.1 "Supervisor CSRs", 3.7 "PMP")
 * and the Zicsr/Zicntr chapters: privilege checks with mtval = the
 * instruction bits, read-only CSRs, WARL fields, the S-level views of M
 * registers (sstatus, sie, sip), counter gating by mcounteren/scounteren,
 * satp mode legality, misa, fcsr and PMP locking.
 */
#include "harness.h"
#include "rvtest.h"

#define MSTATUS     0x300
#define MISA        0x301
#define MEDELEG     0x302
#define MIDELEG     0x303
#define MIE         0x304
#define MTVEC       0x305
#define MCOUNTEREN  0x306
#define MENVCFG     0x30a
#define MSCRATCH    0x340
#define MEPC        0x341
#define MIP         0x344
#define PMPCFG0     0x3a0
#define PMPCFG1     0x3a1
#define PMPCFG2     0x3a2
#define PMPADDR0    0x3b0
#define MHARTID     0xf14
#define MVENDORID   0xf11
#define SSTATUS     0x100
#define SIE         0x104
#define SCOUNTEREN  0x106
#define SSCRATCH    0x140
#define SIP         0x144
#define STIMECMP    0x14d
#define SATP        0x180
#define CYCLE       0xc00
#define TIME        0xc01
#define INSTRET     0xc02
#define HPMCOUNTER3 0xc03
#define FFLAGS      0x001
#define FRM         0x002
#define FCSR        0x003

/* Run one instruction at privilege priv; true if it did not trap. */
static bool run_at(struct rvt *t, unsigned priv, uint32_t insn)
{
    rvt_load(t, RVT_CODE, &insn, 1);
    t->h->pc = RVT_CODE;
    rv_set_priv(t->h, priv);
    t->h->mcause = t->h->mtval = 0xdead;
    CHECK(rvt_run(t, 10));
    if (t->h->pc == RVT_CODE + 4) {
        return true;
    }
    CHECK(rvt_in_mtrap(t));
    return false;
}

/* csrr x3, csr at priv; true if allowed (value in *v). */
static bool rd(struct rvt *t, unsigned priv, unsigned csr, uint64_t *v)
{
    bool ok = run_at(t, priv, I_CSRR(3, csr));
    *v = t->h->x[3];
    return ok;
}

/* csrw csr, x1 in M-mode; then read it back. */
static uint64_t wr_rd(struct rvt *t, unsigned csr, uint64_t val)
{
    uint64_t v = 0;
    t->h->x[1] = val;
    CHECK(run_at(t, RV_PRIV_M, I_CSRW(csr, 1)));
    CHECK(rd(t, RV_PRIV_M, csr, &v));
    return v;
}

TEST(privilege_checks)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    /* S reads mstatus: illegal instruction, mtval = the instruction */
    CHECK(!rd(&t, RV_PRIV_S, MSTATUS, &v));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_CSRR(3, MSTATUS));
    CHECK_EQ(t.h->mepc, RVT_CODE);
    /* U reads sstatus / sscratch */
    CHECK(!rd(&t, RV_PRIV_U, SSTATUS, &v));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_CSRR(3, SSTATUS));
    CHECK(!run_at(&t, RV_PRIV_U, I_CSRRW(0, SSCRATCH, 1)));
    CHECK_EQ(t.h->mtval, I_CSRRW(0, SSCRATCH, 1));
    /* S may use its own, M everything */
    CHECK(rd(&t, RV_PRIV_S, SSTATUS, &v));
    CHECK(rd(&t, RV_PRIV_S, SSCRATCH, &v));
    CHECK(rd(&t, RV_PRIV_M, SSTATUS, &v));
    /* S writes an M register */
    CHECK(!run_at(&t, RV_PRIV_S, I_CSRW(MSCRATCH, 1)));
    /* unimplemented CSRs are illegal even in M */
    CHECK(!rd(&t, RV_PRIV_M, 0x7b0, &v)); /* dcsr: no debug mode */
    CHECK(!rd(&t, RV_PRIV_M, 0x5c0, &v));
    CHECK(!rd(&t, RV_PRIV_M, 0xb01, &v)); /* no mcycle-like CSR at 0xb01 */
    rvt_free(&t);
}

TEST(read_only_csrs)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    CHECK(rd(&t, RV_PRIV_M, MHARTID, &v));
    CHECK_EQ(v, 0);
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRW(MHARTID, 1)));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_CSRW(MHARTID, 1));
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRW(0, MVENDORID, 0)));
    /* csrrs/csrrc with rs1 = x0 and the immediate forms with uimm 0 do
     * not write, so they are allowed; rs1 != x0 is a write attempt even
     * when the register holds 0. */
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRS(3, CYCLE, 0)));
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRC(3, MHARTID, 0)));
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRSI(3, MHARTID, 0)));
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRCI(3, CYCLE, 0)));
    t.h->x[2] = 0;
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRS(3, CYCLE, 2)));
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRC(3, MHARTID, 2)));
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRWI(3, MHARTID, 0)));
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRSI(3, INSTRET, 1)));
    /* a trapping CSR instruction leaves rd alone */
    t.h->x[3] = 0x1234;
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRRW(3, MHARTID, 2)));
    CHECK_EQ(t.h->x[3], 0x1234);
    rvt_free(&t);
}

TEST(csr_instruction_forms)
{
    struct rvt t;
    rvt_init(&t);
    t.h->x[1] = 0xf0f0;
    t.h->x[2] = 0x00ff;
    /* csrrw returns the old value; csrrs/csrrc set/clear bits */
    rvt_load(&t, RVT_CODE,
             (const uint32_t[]){
                 I_CSRRW(3, MSCRATCH, 1), I_CSRRS(4, MSCRATCH, 2),
                 I_CSRRC(5, MSCRATCH, 1), I_CSRRWI(6, MSCRATCH, 0x15),
                 I_CSRRSI(7, MSCRATCH, 0x0a), I_CSRRCI(8, MSCRATCH, 0x01),
                 I_CSRR(9, MSCRATCH) },
             7);
    t.h->mscratch = 0x1111;
    CHECK(rvt_run(&t, 20));
    CHECK_EQ(t.h->x[3], 0x1111);
    CHECK_EQ(t.h->x[4], 0xf0f0);
    CHECK_EQ(t.h->x[5], 0xf0ff);
    CHECK_EQ(t.h->x[6], 0x000f);
    CHECK_EQ(t.h->x[7], 0x15);
    CHECK_EQ(t.h->x[8], 0x1f);
    CHECK_EQ(t.h->x[9], 0x1e);
    /* rd == rs1: the old value is returned, the register's old value is
     * written */
    t.h->x[10] = 0x5555;
    run_at(&t, RV_PRIV_M, I_CSRRW(10, MSCRATCH, 10));
    CHECK_EQ(t.h->x[10], 0x1e);
    CHECK_EQ(t.h->mscratch, 0x5555);
    rvt_free(&t);
}

TEST(mstatus_warl)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    /* MPP = 2 is reserved: it must read back as a legal mode */
    v = wr_rd(&t, MSTATUS, 2ull << MSTATUS_MPP_SHIFT);
    CHECK(((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) != 2);
    v = wr_rd(&t, MSTATUS, 1ull << MSTATUS_MPP_SHIFT);
    CHECK_EQ((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, 1);
    v = wr_rd(&t, MSTATUS, 3ull << MSTATUS_MPP_SHIFT);
    CHECK_EQ((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, 3);
    /* UXL and SXL read 2 (64-bit) whatever is written */
    v = wr_rd(&t, MSTATUS, 0);
    CHECK_EQ((v >> 32) & 3, 2);
    CHECK_EQ((v >> 34) & 3, 2);
    v = wr_rd(&t, MSTATUS, MSTATUS_UXL | MSTATUS_SXL);
    CHECK_EQ((v >> 32) & 3, 2);
    CHECK_EQ((v >> 34) & 3, 2);
    /* SD summarises FS == Dirty */
    v = wr_rd(&t, MSTATUS, MSTATUS_FS);
    CHECK(v & MSTATUS_SD);
    v = wr_rd(&t, MSTATUS, 1ull << MSTATUS_FS_SHIFT);
    CHECK(!(v & MSTATUS_SD));
    CHECK_EQ(v & MSTATUS_FS, 1ull << MSTATUS_FS_SHIFT);
    /* SD itself is read-only */
    v = wr_rd(&t, MSTATUS, MSTATUS_SD);
    CHECK(!(v & MSTATUS_SD));
    rvt_free(&t);
}

TEST(sstatus_is_a_view)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    wr_rd(&t, MSTATUS, 0);
    /* S sets SIE and SUM through sstatus: visible in mstatus */
    t.h->x[1] = MSTATUS_SIE | MSTATUS_SUM;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRS(0, SSTATUS, 1)));
    CHECK(rd(&t, RV_PRIV_M, MSTATUS, &v));
    CHECK(v & MSTATUS_SIE);
    CHECK(v & MSTATUS_SUM);
    /* M-only fields cannot be written through sstatus */
    t.h->x[1] = MSTATUS_MIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_MPRV |
                MSTATUS_TSR | MSTATUS_TW;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRS(0, SSTATUS, 1)));
    CHECK_EQ(t.h->mstatus & (MSTATUS_MIE | MSTATUS_MPP | MSTATUS_TVM |
                             MSTATUS_MPRV | MSTATUS_TSR | MSTATUS_TW),
             0);
    /* ... and M-only fields set in mstatus do not show in sstatus */
    wr_rd(&t, MSTATUS,
          MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_SPP |
              MSTATUS_MXR);
    CHECK(rd(&t, RV_PRIV_S, SSTATUS, &v));
    CHECK_EQ(v & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM), 0);
    CHECK(v & MSTATUS_SPP);
    CHECK(v & MSTATUS_MXR);
    CHECK_EQ((v >> 32) & 3, 2); /* UXL is visible */
    /* clearing through sstatus */
    t.h->x[1] = MSTATUS_MXR;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRC(0, SSTATUS, 1)));
    CHECK(!(t.h->mstatus & MSTATUS_MXR));
    CHECK(t.h->mstatus & MSTATUS_TVM);
    rvt_free(&t);
}

TEST(sie_sip_masked_by_mideleg)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    /* nothing delegated: sie reads 0 and writes do nothing */
    wr_rd(&t, MIDELEG, 0);
    wr_rd(&t, MIE, 0x888);
    t.h->x[1] = ~0ull;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRW(SIE, 1)));
    CHECK(rd(&t, RV_PRIV_S, SIE, &v));
    CHECK_EQ(v, 0);
    CHECK_EQ(t.h->mie, 0x888);
    /* S interrupts delegated: sie writes land in mie's S bits only */
    CHECK_EQ(wr_rd(&t, MIDELEG, 0x222) & 0x222, 0x222);
    CHECK(run_at(&t, RV_PRIV_S, I_CSRW(SIE, 1)));
    CHECK(rd(&t, RV_PRIV_S, SIE, &v));
    CHECK_EQ(v, 0x222);
    CHECK_EQ(t.h->mie, 0xaaa);
    t.h->x[1] = 0;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRW(SIE, 1)));
    CHECK_EQ(t.h->mie, 0x888);
    /* only STI delegated: sie shows and writes only STIE */
    wr_rd(&t, MIDELEG, 0x020);
    wr_rd(&t, MIE, 0x222);
    CHECK(rd(&t, RV_PRIV_S, SIE, &v));
    CHECK_EQ(v, 0x020);
    /* sip: SSIP writable from S only when delegated */
    wr_rd(&t, MIDELEG, 0);
    t.h->x[1] = 2;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRS(0, SIP, 1)));
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 2, 0);
    wr_rd(&t, MIDELEG, 0x222);
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRS(0, SIP, 1)));
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 2, 2);
    /* STIP/SEIP set by M in mip are visible in sip when delegated (mie
     * cleared so that nothing is taken) */
    wr_rd(&t, MIE, 0);
    t.h->x[1] = 0x220;
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRS(0, MIP, 1)));
    CHECK(rd(&t, RV_PRIV_S, SIP, &v));
    CHECK_EQ(v & 0x222, 0x222);
    wr_rd(&t, MIDELEG, 0x002);
    CHECK(rd(&t, RV_PRIV_S, SIP, &v));
    CHECK_EQ(v & 0x222, 0x002);
    /* S cannot set STIP/SEIP through sip */
    wr_rd(&t, MIP, 0);
    wr_rd(&t, MIDELEG, 0x222);
    t.h->x[1] = 0x220;
    CHECK(run_at(&t, RV_PRIV_S, I_CSRRS(0, SIP, 1)));
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x220, 0);
    /* MSIP/MTIP/MEIP are read-only in mip */
    CHECK_EQ(wr_rd(&t, MIP, 0x888) & 0x888, 0);
    rvt_free(&t);
}

/* mip.SEIP reads as the software bit ORed with the external line, but a
 * CSRRS/CSRRC uses only the software bit (privileged spec, mip): setting
 * SSIP while the line is high must not latch SEIP. */
TEST(mip_seip_rmw_uses_software_bit)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    wr_rd(&t, MIE, 0); /* nothing is taken */
    wr_rd(&t, MIDELEG, 0x222);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x200, 0x200);
    /* csrrs x3, mip, x1 (SSIP) with the line high: x3 shows the line */
    t.h->x[1] = 0x2;
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRS(3, MIP, 1)));
    CHECK_EQ(t.h->x[3] & 0x200, 0x200);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 0);
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x202, 0x002); /* SSIP set, SEIP followed the line */
    /* the same for csrrc */
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRC(0, MIP, 1)));
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 0);
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x202, 0);
    /* the software bit itself is set and cleared by csrrs/csrrc, and
     * stays whatever the line does */
    t.h->x[1] = 0x200;
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRS(0, MIP, 1)));
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 0);
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x200, 0x200);
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 1);
    CHECK(run_at(&t, RV_PRIV_M, I_CSRRC(0, MIP, 1)));
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x200, 0x200); /* the line is still high */
    rv_hart_set_irq(t.h, RV_IRQ_S_EXT, 0);
    CHECK(rd(&t, RV_PRIV_M, MIP, &v));
    CHECK_EQ(v & 0x200, 0);
    rvt_free(&t);
}

TEST(deleg_registers)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    v = wr_rd(&t, MEDELEG, ~0ull);
    CHECK_EQ(v & (1ull << 11), 0); /* ecall from M cannot be delegated */
    CHECK((v & 0xb1ff) == 0xb1ff); /* the usual Linux set is writable */
    v = wr_rd(&t, MIDELEG, ~0ull);
    CHECK_EQ(v & 0x222, 0x222);
    CHECK_EQ(v & 0x888, 0); /* M-level interrupts are never delegated */
    rvt_free(&t);
}

TEST(counters_gated)
{
    struct rvt t;
    uint64_t v;
    static const unsigned ctr[] = { CYCLE, TIME, INSTRET, HPMCOUNTER3, 0xc1f };
    rvt_init(&t);
    for (unsigned i = 0; i < sizeof(ctr) / sizeof(ctr[0]); i++) {
        unsigned bit = ctr[i] - CYCLE;
        wr_rd(&t, MCOUNTEREN, 0);
        wr_rd(&t, SCOUNTEREN, 0);
        CHECK(rd(&t, RV_PRIV_M, ctr[i], &v));
        CHECK(!rd(&t, RV_PRIV_S, ctr[i], &v));
        CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
        CHECK_EQ(t.h->mtval, I_CSRR(3, ctr[i]));
        CHECK(!rd(&t, RV_PRIV_U, ctr[i], &v));
        /* mcounteren opens S; U also needs scounteren */
        wr_rd(&t, MCOUNTEREN, 1ull << bit);
        CHECK(rd(&t, RV_PRIV_S, ctr[i], &v));
        CHECK(!rd(&t, RV_PRIV_U, ctr[i], &v));
        wr_rd(&t, SCOUNTEREN, 1ull << bit);
        CHECK(rd(&t, RV_PRIV_U, ctr[i], &v));
        /* scounteren alone does not open U */
        wr_rd(&t, MCOUNTEREN, ~(1ull << bit) & 0xffffffff);
        CHECK(!rd(&t, RV_PRIV_U, ctr[i], &v));
        CHECK(!rd(&t, RV_PRIV_S, ctr[i], &v));
    }
    rvt_free(&t);
}

TEST(counters_count)
{
    struct rvt t;
    rvt_init(&t);
    /* instret advances by the retired instructions between two reads */
    RVT_PROG(&t, I_CSRR(3, INSTRET), I_NOP, I_NOP, I_NOP, I_CSRR(4, INSTRET),
             I_CSRR(5, 0xb02));
    CHECK(rvt_run(&t, 20));
    CHECK_EQ(t.h->x[4] - t.h->x[3], 4);
    CHECK_EQ(t.h->x[5] - t.h->x[4], 1);
    /* minstret is writable */
    t.h->x[1] = 1000;
    RVT_PROG(&t, I_CSRW(0xb02, 1), I_NOP, I_CSRR(3, 0xb02));
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 20));
    CHECK(t.h->x[3] >= 1000 && t.h->x[3] <= 1003);
    rvt_free(&t);
}

TEST(mcountinhibit_stops_counters)
{
    struct rvt t;
    rvt_init(&t);
    /* IR (bit 2) set: minstret holds still across retired instructions */
    t.h->x[1] = 4;
    RVT_PROG(&t, I_CSRW(0x320, 1), I_CSRR(3, 0xb02), I_NOP, I_NOP, I_NOP,
             I_CSRR(4, 0xb02), I_CSRW(0x320, 0), I_NOP, I_NOP,
             I_CSRR(5, 0xb02));
    CHECK(rvt_run(&t, 40));
    CHECK_EQ(t.h->x[4], t.h->x[3]);
    /* cleared again: it counts on from where it stopped */
    CHECK(t.h->x[5] > t.h->x[4]);
    CHECK(t.h->x[5] - t.h->x[4] <= 4);
    /* TM (bit 1) is read-only zero */
    t.h->x[1] = 2;
    RVT_PROG(&t, I_CSRW(0x320, 1), I_CSRR(3, 0x320));
    t.h->pc = RVT_CODE;
    CHECK(rvt_run(&t, 20));
    CHECK_EQ(t.h->x[3], 0);
    rvt_free(&t);
}

TEST(satp_modes)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    uint64_t sv39 = (8ull << 60) | 0x80123;
    CHECK_EQ(wr_rd(&t, SATP, sv39), sv39);
    /* Sv64 (11) and reserved modes are not supported: no effect */
    CHECK_EQ(wr_rd(&t, SATP, (11ull << 60) | 0x5), sv39);
    CHECK_EQ(wr_rd(&t, SATP, (1ull << 60) | 0x5), sv39);
    CHECK_EQ(wr_rd(&t, SATP, (15ull << 60) | 0x5), sv39);
    CHECK_EQ(wr_rd(&t, SATP, (10ull << 60) | 0x5), (10ull << 60) | 0x5);
    CHECK_EQ(wr_rd(&t, SATP, 0), 0);
    /* a machine with Sv39 only ignores an Sv48 write */
    t.cpu->satp_modes = 1u << 8;
    CHECK_EQ(wr_rd(&t, SATP, sv39), sv39);
    CHECK_EQ(wr_rd(&t, SATP, (9ull << 60) | 0x5), sv39);
    t.cpu->satp_modes = (1u << 8) | (1u << 9) | (1u << 10);
    /* S may access satp unless mstatus.TVM (satp Bare, so that S code
     * still runs untranslated) */
    wr_rd(&t, SATP, 0);
    t.h->satp = 0x80123; /* Bare mode, nonzero PPN bits to read back */
    CHECK(rd(&t, RV_PRIV_S, SATP, &v));
    CHECK_EQ(v, 0x80123);
    wr_rd(&t, MSTATUS, MSTATUS_TVM);
    CHECK(!rd(&t, RV_PRIV_S, SATP, &v));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK_EQ(t.h->mtval, I_CSRR(3, SATP));
    t.h->x[1] = 0;
    CHECK(!run_at(&t, RV_PRIV_S, I_CSRW(SATP, 1)));
    CHECK_EQ(t.h->satp, 0x80123);
    CHECK(rd(&t, RV_PRIV_M, SATP, &v)); /* TVM does not affect M */
    rvt_free(&t);
}

TEST(misa)
{
    struct rvt t;
    uint64_t v, v2;
    rvt_init(&t);
    CHECK(rd(&t, RV_PRIV_M, MISA, &v));
    CHECK_EQ(v >> 62, 2); /* MXL = 64 */
    /* I M A F D C S U present */
    static const char have[] = "IMAFDCSU";
    for (const char *c = have; *c; c++) {
        if (!((v >> (*c - 'A')) & 1)) {
            printf("  misa lacks %c\n", *c);
        }
        CHECK((v >> (*c - 'A')) & 1);
    }
    /* E, H, Q, V absent (bits 4, 7, 16, 21); no bits in 61:26 */
    CHECK_EQ(v & ((1ull << 4) | (1ull << 7) | (1ull << 16) | (1ull << 21)), 0);
    CHECK_EQ(v & (((1ull << 62) - 1) & ~((1ull << 26) - 1)), 0);
    /* writes (here: dropping C) leave a legal value; this one keeps it */
    v2 = wr_rd(&t, MISA, v & ~(1ull << 2));
    CHECK_EQ(v2 >> 62, 2);
    CHECK((v2 >> ('I' - 'A')) & 1);
    CHECK(!rd(&t, RV_PRIV_S, MISA, &v));
    rvt_free(&t);
}

TEST(fcsr)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    /* FS = Off: fflags/frm/fcsr are illegal */
    wr_rd(&t, MSTATUS, 0);
    CHECK(!rd(&t, RV_PRIV_M, FFLAGS, &v));
    CHECK(!rd(&t, RV_PRIV_M, FRM, &v));
    CHECK(!rd(&t, RV_PRIV_M, FCSR, &v));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    /* FS = Initial: accessible; a write makes FS Dirty */
    wr_rd(&t, MSTATUS, 1ull << MSTATUS_FS_SHIFT);
    CHECK_EQ(wr_rd(&t, FCSR, 0xfff), 0xff);
    CHECK_EQ((t.h->mstatus & MSTATUS_FS) >> MSTATUS_FS_SHIFT, 3);
    CHECK(rd(&t, RV_PRIV_M, FFLAGS, &v));
    CHECK_EQ(v, 0x1f);
    CHECK(rd(&t, RV_PRIV_M, FRM, &v));
    CHECK_EQ(v, 7);
    CHECK_EQ(wr_rd(&t, FRM, 0x2a), 2);
    CHECK(rd(&t, RV_PRIV_M, FCSR, &v));
    CHECK_EQ(v, 0x5f);
    CHECK_EQ(wr_rd(&t, FFLAGS, 0x21), 1);
    CHECK(rd(&t, RV_PRIV_M, FCSR, &v));
    CHECK_EQ(v, 0x41);
    /* U can use fcsr (it is a U-level CSR) */
    CHECK(rd(&t, RV_PRIV_U, FCSR, &v));
    CHECK_EQ(v, 0x41);
    rvt_free(&t);
}

TEST(misc_warl)
{
    struct rvt t;
    rvt_init(&t);
    /* mepc/sepc: bit 0 is always zero (IALIGN = 16) */
    CHECK_EQ(wr_rd(&t, MEPC, 0x80000003), 0x80000002);
    CHECK_EQ(wr_rd(&t, 0x141, 0x1001), 0x1000);
    CHECK_EQ(wr_rd(&t, MSCRATCH, ~0ull), ~0ull);
    /* stimecmp from S needs menvcfg.STCE and mcounteren.TM */
    uint64_t v;
    wr_rd(&t, MENVCFG, 0);
    wr_rd(&t, MCOUNTEREN, 2);
    CHECK(!rd(&t, RV_PRIV_S, STIMECMP, &v));
    wr_rd(&t, MENVCFG, MENVCFG_STCE);
    CHECK(rd(&t, RV_PRIV_S, STIMECMP, &v));
    wr_rd(&t, MCOUNTEREN, 0);
    CHECK(!rd(&t, RV_PRIV_S, STIMECMP, &v));
    rvt_free(&t);
}

TEST(pmp_csrs)
{
    struct rvt t;
    uint64_t v;
    rvt_init(&t);
    /* odd pmpcfg registers do not exist on RV64 */
    CHECK(!rd(&t, RV_PRIV_M, PMPCFG1, &v));
    CHECK_EQ(t.h->mcause, RV_EXC_ILLEGAL);
    CHECK(!run_at(&t, RV_PRIV_M, I_CSRW(0x3a3, 0)));
    CHECK(rd(&t, RV_PRIV_M, PMPCFG2, &v));
    /* S cannot touch PMP */
    CHECK(!rd(&t, RV_PRIV_S, PMPCFG0, &v));
    CHECK(!rd(&t, RV_PRIV_S, PMPADDR0, &v));
    /* R = 0, W = 1 is reserved: never reads back */
    v = wr_rd(&t, PMPCFG0, 0x0a);
    CHECK((v & 3) != 2);
    /* pmpaddr holds bits 55:2 of the address */
    CHECK_EQ(wr_rd(&t, PMPADDR0 + 3, ~0ull), (1ull << 54) - 1);

    /* Lock entry 1 as TOR [pmpaddr0, pmpaddr1), R only. */
    wr_rd(&t, PMPADDR0, 0x80000000 >> 2);
    wr_rd(&t, PMPADDR0 + 1, 0x80001000 >> 2);
    wr_rd(&t, PMPCFG0, (0x1f) | (uint64_t)(0x80 | 0x08 | 0x01) << 8);
    /* locked: entry 1's cfg byte, pmpaddr1 and (TOR) pmpaddr0 ignore
     * writes; entry 0 and entry 2 stay writable */
    v = wr_rd(&t, PMPCFG0, 0x18 | 0x00ull << 8 | 0x19ull << 16);
    CHECK_EQ((v >> 8) & 0xff, 0x89);
    CHECK_EQ(v & 0xff, 0x18);
    CHECK_EQ((v >> 16) & 0xff, 0x19);
    CHECK_EQ(wr_rd(&t, PMPADDR0 + 1, 0x1234), 0x80001000 >> 2);
    CHECK_EQ(wr_rd(&t, PMPADDR0, 0x1234), 0x80000000 >> 2);
    CHECK_EQ(wr_rd(&t, PMPADDR0 + 2, 0x1234), 0x1234);
    rvt_free(&t);
}

int main(void)
{
    RUN(privilege_checks);
    RUN(read_only_csrs);
    RUN(csr_instruction_forms);
    RUN(mstatus_warl);
    RUN(sstatus_is_a_view);
    RUN(sie_sip_masked_by_mideleg);
    RUN(mip_seip_rmw_uses_software_bit);
    RUN(deleg_registers);
    RUN(counters_gated);
    RUN(counters_count);
    RUN(mcountinhibit_stops_counters);
    RUN(satp_modes);
    RUN(misa);
    RUN(fcsr);
    RUN(misc_warl);
    RUN(pmp_csrs);
    HARNESS_END();
}
