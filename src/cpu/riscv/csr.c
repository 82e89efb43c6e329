/* SPDX-License-Identifier: MIT */
/*
 * Control and status registers (RISC-V privileged spec chapters 2-4, the
 * Zicsr/Zicntr/Zihpm chapters of the unprivileged spec, and the Sstc
 * extension): access checks by privilege and read-only bits, WARL
 * legalisation, the S-level views of M registers, counters gated by
 * mcounteren/scounteren, and PMP configuration. Unimplemented CSRs raise
 * illegal-instruction, which is how OpenSBI and Linux probe for them.
 */
#include "core/log.h"
#include "cpu/riscv/fpu.h"
#include "cpu/riscv/hart.h"

#define MIP_SSIP     (1ull << RV_IRQ_S_SOFT)
#define MIP_STIP     (1ull << RV_IRQ_S_TIMER)
#define MIP_SEIP     (1ull << RV_IRQ_S_EXT)
#define S_IRQS       (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define MIE_MASK     0xaaaull
#define MEDELEG_MASK 0xb3ffull

#define MSTATUS_WMASK                                                        \
    (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | \
     MSTATUS_MPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR |   \
     MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define SSTATUS_MASK                                                       \
    (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | \
     MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define MENVCFG_WMASK                                             \
    (MENVCFG_FIOM | MENVCFG_CBIE | MENVCFG_CBCFE | MENVCFG_CBZE | \
     MENVCFG_PBMTE | MENVCFG_STCE)
#define SENVCFG_WMASK \
    (MENVCFG_FIOM | MENVCFG_CBIE | MENVCFG_CBCFE | MENVCFG_CBZE)

/* misa: RV64 with A, C, D, F, I, M, S, U. */
#define MISA_VALUE                                                  \
    ((2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) | \
     (1u << 8) | (1u << 12) | (1u << 18) | (1u << 20))

void rv_update_data_priv(struct rv_hart *h)
{
    if (h->priv == RV_PRIV_M && (h->mstatus & MSTATUS_MPRV)) {
        h->data_priv =
            (unsigned)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    } else {
        h->data_priv = h->priv;
    }
}

static uint64_t mstatus_read(const struct rv_hart *h)
{
    /* UXL and SXL read as 2 (64-bit) and cannot be changed. */
    uint64_t s = h->mstatus | (2ull << 32) | (2ull << 34);
    if ((s & MSTATUS_FS) == MSTATUS_FS) {
        s |= MSTATUS_SD;
    }
    return s;
}

static void mstatus_write(struct rv_hart *h, uint64_t val, uint64_t mask)
{
    uint64_t old = h->mstatus;
    uint64_t s = (old & ~mask) | (val & mask);

    if (((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2) {
        s &= ~MSTATUS_MPP; /* reserved encoding: WARL to U */
    }
    s &= MSTATUS_WMASK;
    h->mstatus = s;
    rv_update_data_priv(h);
    if (((old & MSTATUS_SUM) && !(s & MSTATUS_SUM) && h->tlb_has_sum) ||
        ((old ^ s) & MSTATUS_MXR)) {
        rv_tlb_flush(h);
    }
}

static uint64_t mip_read(struct rv_hart *h)
{
    return h->mip | atomic_load(&h->mip_ext) | h->mip_timer;
}

static void pmp_changed(struct rv_hart *h)
{
    h->pmp_active = false;
    for (unsigned i = 0; i < RV_NUM_PMP; i++) {
        if (h->pmpcfg[i] & 0x18) {
            h->pmp_active = true;
        }
    }
    rv_tlb_flush(h);
}

static bool pmp_locked(const struct rv_hart *h, unsigned i)
{
    return (h->pmpcfg[i] & 0x80) != 0;
}

static void pmpcfg_write(struct rv_hart *h, unsigned first, uint64_t val)
{
    for (unsigned i = 0; i < 8; i++) {
        uint8_t c = (uint8_t)(val >> (8 * i));
        if (pmp_locked(h, first + i)) {
            continue;
        }
        c &= 0x9f;
        if ((c & 0x03) == 0x02) {
            c &= ~0x02; /* W without R is reserved */
        }
        h->pmpcfg[first + i] = c;
    }
    pmp_changed(h);
}

static void pmpaddr_write(struct rv_hart *h, unsigned i, uint64_t val)
{
    if (pmp_locked(h, i)) {
        return;
    }
    if (i + 1 < RV_NUM_PMP && pmp_locked(h, i + 1) &&
        (h->pmpcfg[i + 1] & 0x18) == 0x08) {
        return; /* the top of a locked TOR range */
    }
    h->pmpaddr[i] = val & ((1ull << 54) - 1);
    pmp_changed(h);
}

#define INHIBIT_CY 1ull
#define INHIBIT_IR 4ull

static uint64_t cycle_read(const struct rv_hart *h)
{
    return (h->mcountinhibit & INHIBIT_CY) ? h->mcycle_frozen
                                           : h->instret + h->mcycle_off;
}

static uint64_t instret_read(const struct rv_hart *h)
{
    return (h->mcountinhibit & INHIBIT_IR) ? h->minstret_frozen
                                           : h->instret + h->minstret_off;
}

static void mcountinhibit_write(struct rv_hart *h, uint64_t v)
{
    uint64_t old = h->mcountinhibit;

    v &= 0xfffffffdull; /* bit 1 (TM) is read-only zero */
    if ((v & ~old) & INHIBIT_CY) {
        h->mcycle_frozen = cycle_read(h);
    } else if ((old & ~v) & INHIBIT_CY) {
        h->mcycle_off = h->mcycle_frozen - h->instret;
    }
    if ((v & ~old) & INHIBIT_IR) {
        h->minstret_frozen = instret_read(h) + 1; /* this one retires */
    } else if ((old & ~v) & INHIBIT_IR) {
        h->minstret_off = h->minstret_frozen - h->instret - 1;
    }
    h->mcountinhibit = v;
}

/* Counter access from S or U (Zicntr/Zihpm gating). */
static bool counter_allowed(const struct rv_hart *h, unsigned bit)
{
    if (h->priv < RV_PRIV_M && !((h->mcounteren >> bit) & 1)) {
        return false;
    }
    if (h->priv < RV_PRIV_S && !((h->scounteren >> bit) & 1)) {
        return false;
    }
    return true;
}

static bool fs_on(const struct rv_hart *h)
{
    return (h->mstatus & MSTATUS_FS) != 0;
}

static bool csr_read(struct rv_hart *h, unsigned csr, uint64_t *v)
{
    if (csr >= 0xc00 && csr <= 0xc1f) {
        if (!counter_allowed(h, csr - 0xc00)) {
            return false;
        }
        *v = csr == 0xc00   ? cycle_read(h)
             : csr == 0xc01 ? rv_time_now(h->cpu)
             : csr == 0xc02 ? instret_read(h)
                            : 0;
        return true;
    }
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) {
        *v = 0; /* Zihpm: counters 3..31 exist and count nothing */
        return true;
    }
    if (csr >= 0x3b0 && csr <= 0x3ef) {
        unsigned i = csr - 0x3b0;
        *v = i < RV_NUM_PMP ? h->pmpaddr[i] : 0;
        return true;
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
        if (csr & 1) {
            return false; /* odd pmpcfg registers do not exist on RV64 */
        }
        *v = 0;
        if (csr <= 0x3a2) {
            unsigned first = (csr - 0x3a0) * 4;
            for (unsigned i = 0; i < 8; i++) {
                *v |= (uint64_t)h->pmpcfg[first + i] << (8 * i);
            }
        }
        return true;
    }
    switch (csr) {
    case 0x001:
        *v = h->fflags;
        return fs_on(h);
    case 0x002:
        *v = h->frm;
        return fs_on(h);
    case 0x003:
        *v = (h->frm << 5) | h->fflags;
        return fs_on(h);
    case 0x100:
        *v = mstatus_read(h) & SSTATUS_MASK;
        return true;
    case 0x104:
        *v = h->mie & h->mideleg;
        return true;
    case 0x105:
        *v = h->stvec;
        return true;
    case 0x106:
        *v = h->scounteren;
        return true;
    case 0x10a:
        *v = h->senvcfg;
        return true;
    case 0x140:
        *v = h->sscratch;
        return true;
    case 0x141:
        *v = h->sepc;
        return true;
    case 0x142:
        *v = h->scause;
        return true;
    case 0x143:
        *v = h->stval;
        return true;
    case 0x144:
        *v = mip_read(h) & h->mideleg;
        return true;
    case 0x14d:
        if (h->priv < RV_PRIV_M &&
            (!(h->menvcfg & MENVCFG_STCE) || !(h->mcounteren & 2))) {
            return false;
        }
        *v = h->stimecmp;
        return true;
    case 0x180:
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM)) {
            return false;
        }
        *v = h->satp;
        return true;
    case 0xf11: /* mvendorid */
    case 0xf12: /* marchid */
    case 0xf13: /* mimpid */
    case 0xf15: /* mconfigptr */
        *v = 0;
        return true;
    case 0xf14:
        *v = h->hartid;
        return true;
    case 0x300:
        *v = mstatus_read(h);
        return true;
    case 0x301:
        *v = MISA_VALUE;
        return true;
    case 0x302:
        *v = h->medeleg;
        return true;
    case 0x303:
        *v = h->mideleg;
        return true;
    case 0x304:
        *v = h->mie;
        return true;
    case 0x305:
        *v = h->mtvec;
        return true;
    case 0x306:
        *v = h->mcounteren;
        return true;
    case 0x30a:
        *v = h->menvcfg;
        return true;
    case 0x320:
        *v = h->mcountinhibit;
        return true;
    case 0x340:
        *v = h->mscratch;
        return true;
    case 0x341:
        *v = h->mepc;
        return true;
    case 0x342:
        *v = h->mcause;
        return true;
    case 0x343:
        *v = h->mtval;
        return true;
    case 0x344:
        *v = mip_read(h);
        return true;
    case 0xb00:
        *v = cycle_read(h);
        return true;
    case 0xb02:
        *v = instret_read(h);
        return true;
    }
    return false;
}

static void set_fs_dirty(struct rv_hart *h)
{
    h->mstatus |= MSTATUS_FS;
}

static bool csr_write(struct rv_hart *h, unsigned csr, uint64_t v)
{
    if ((csr >= 0xb03 && csr <= 0xb1f) || (csr >= 0x323 && csr <= 0x33f)) {
        return true;
    }
    if (csr >= 0x3b0 && csr <= 0x3ef) {
        if (csr - 0x3b0 < RV_NUM_PMP) {
            pmpaddr_write(h, csr - 0x3b0, v);
        }
        return true;
    }
    if (csr >= 0x3a0 && csr <= 0x3af) {
        if (csr <= 0x3a2) {
            pmpcfg_write(h, (csr - 0x3a0) * 4, v);
        }
        return true;
    }
    switch (csr) {
    case 0x001:
        h->fflags = v & 0x1f;
        set_fs_dirty(h);
        return true;
    case 0x002:
        h->frm = v & 7;
        set_fs_dirty(h);
        return true;
    case 0x003:
        h->fflags = v & 0x1f;
        h->frm = (v >> 5) & 7;
        set_fs_dirty(h);
        return true;
    case 0x100:
        mstatus_write(h, v, SSTATUS_MASK & MSTATUS_WMASK);
        return true;
    case 0x104:
        h->mie = (h->mie & ~h->mideleg) | (v & h->mideleg & S_IRQS);
        return true;
    case 0x105:
        h->stvec = v & ~2ull;
        return true;
    case 0x106:
        h->scounteren = v & 0xffffffffull;
        return true;
    case 0x10a:
        h->senvcfg = v & SENVCFG_WMASK;
        return true;
    case 0x140:
        h->sscratch = v;
        return true;
    case 0x141:
        h->sepc = v & ~1ull;
        return true;
    case 0x142:
        h->scause = v;
        return true;
    case 0x143:
        h->stval = v;
        return true;
    case 0x144:
        if (h->mideleg & MIP_SSIP) {
            h->mip = (h->mip & ~MIP_SSIP) | (v & MIP_SSIP);
        }
        return true;
    case 0x14d:
        h->stimecmp = v;
        rv_update_timer_irqs(h, rv_time_now(h->cpu));
        return true;
    case 0x180: {
        unsigned mode = (unsigned)(v >> 60);
        if (mode != 0 && !(h->cpu->satp_modes & (1u << mode))) {
            return true; /* unsupported mode: the write has no effect */
        }
        h->satp = v & ((0xfull << 60) | ((1ull << 44) - 1));
        rv_tlb_flush(h);
        return true;
    }
    case 0x300:
        mstatus_write(h, v, MSTATUS_WMASK);
        return true;
    case 0x301:
        return true; /* misa is read-only here (WARL) */
    case 0x302:
        h->medeleg = v & MEDELEG_MASK;
        return true;
    case 0x303:
        h->mideleg = v & S_IRQS;
        return true;
    case 0x304:
        h->mie = v & MIE_MASK;
        return true;
    case 0x305:
        h->mtvec = v & ~2ull;
        return true;
    case 0x306:
        h->mcounteren = v & 0xffffffffull;
        return true;
    case 0x30a: {
        uint64_t old = h->menvcfg;
        h->menvcfg = v & MENVCFG_WMASK;
        if ((old ^ h->menvcfg) & MENVCFG_PBMTE) {
            rv_tlb_flush(h);
        }
        if (!(h->menvcfg & MENVCFG_STCE)) {
            h->mip_timer &= ~MIP_STIP;
        }
        rv_update_timer_irqs(h, rv_time_now(h->cpu));
        return true;
    }
    case 0x320:
        mcountinhibit_write(h, v);
        return true;
    case 0x340:
        h->mscratch = v;
        return true;
    case 0x341:
        h->mepc = v & ~1ull;
        return true;
    case 0x342:
        h->mcause = v;
        return true;
    case 0x343:
        h->mtval = v;
        return true;
    case 0x344: {
        uint64_t mask = MIP_SSIP | MIP_SEIP;
        if (!(h->menvcfg & MENVCFG_STCE)) {
            mask |= MIP_STIP;
        }
        h->mip = (h->mip & ~mask) | (v & mask);
        return true;
    }
    case 0xb00:
        if (h->mcountinhibit & INHIBIT_CY) {
            h->mcycle_frozen = v;
        } else {
            h->mcycle_off = v - h->instret;
        }
        return true;
    case 0xb02:
        /* The writing instruction itself still retires after the write. */
        if (h->mcountinhibit & INHIBIT_IR) {
            h->minstret_frozen = v;
        } else {
            h->minstret_off = v - h->instret - 1;
        }
        return true;
    }
    return true;
}

static bool csr_allowed(const struct rv_hart *h, unsigned csr)
{
    return h->priv >= ((csr >> 8) & 3);
}

bool rv_csr_op(struct rv_hart *h, unsigned csr, unsigned op, uint64_t src,
               bool do_write, bool do_read, uint64_t *old, uint32_t raw)
{
    uint64_t v = 0;

    (void)do_read;
    if (!csr_allowed(h, csr) || (do_write && (csr >> 10) == 3) ||
        !csr_read(h, csr, &v)) {
        rv_raise(h, RV_EXC_ILLEGAL, raw);
        return false;
    }
    if (do_write) {
        uint64_t base = v;
        if (csr == 0x344) {
            /* Privileged spec, mip: a CSRRS/CSRRC read-modify-write uses
             * only the software-writable SEIP bit, not the external line
             * it is ORed with on reads. Otherwise setting SSIP (OpenSBI
             * does, to deliver an IPI) while the PLIC asserts SEIP would
             * latch SEIP, and the hart would take external interrupts
             * forever after the line dropped. */
            base = (v & ~MIP_SEIP) | (h->mip & MIP_SEIP);
        }
        uint64_t nv = op == 1 ? src : op == 2 ? (base | src) : (base & ~src);
        csr_write(h, csr, nv);
    }
    *old = v;
    return true;
}
