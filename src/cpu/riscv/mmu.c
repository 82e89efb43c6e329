/* SPDX-License-Identifier: MIT */
/*
 * Address translation and physical memory protection (RISC-V privileged
 * spec, "Supervisor-Level ISA": Sv39/Sv48/Sv57, and "Physical Memory
 * Protection"), the software TLBs, and the slow paths of loads, stores,
 * AMOs and instruction fetch.
 *
 * Page-table walks update A and D in hardware. A TLB entry caches a RAM
 * page's host addend for one access type and one effective privilege; a
 * write entry is only made once the PTE's D bit is set. MMIO, pages only
 * partly covered by a PMP entry, and misaligned or page-crossing accesses
 * are never cached and go through here every time. Svpbmt's memory types
 * are accepted and have no effect on an emulator; Svnapot is not
 * implemented, so PTEs with N set fault.
 */
#include <string.h>

#include "bus/bus.h"
#include "core/log.h"
#include "cpu/riscv/hart.h"
#include "mem/mem.h"

#define PTE_V        (1ull << 0)
#define PTE_R        (1ull << 1)
#define PTE_W        (1ull << 2)
#define PTE_X        (1ull << 3)
#define PTE_U        (1ull << 4)
#define PTE_A        (1ull << 6)
#define PTE_D        (1ull << 7)
#define PTE_PPN_MASK 0x003ffffffffffc00ull
#define PTE_PBMT     (3ull << 61)
#define PTE_N        (1ull << 63)
#define PTE_RESERVED 0x1fc0000000000000ull /* bits 60:54 */

#define PMP_R     0x01
#define PMP_W     0x02
#define PMP_X     0x04
#define PMP_A     0x18
#define PMP_L     0x80
#define PMP_OFF   0x00
#define PMP_TOR   0x08
#define PMP_NA4   0x10
#define PMP_NAPOT 0x18

void rv_tlb_flush(struct rv_hart *h)
{
    memset(h->tlb, 0, sizeof(h->tlb));
    h->tlb_has_sum = false;
}

/* Range [lo, hi) covered by PMP entry i; false if the entry is off. */
static bool pmp_range(const struct rv_hart *h, unsigned i, uint64_t *lo,
                      uint64_t *hi)
{
    uint8_t cfg = h->pmpcfg[i];
    uint64_t a = h->pmpaddr[i];

    switch (cfg & PMP_A) {
    case PMP_TOR:
        *lo = i ? h->pmpaddr[i - 1] << 2 : 0;
        *hi = a << 2;
        return *lo < *hi;
    case PMP_NA4:
        *lo = a << 2;
        *hi = *lo + 4;
        return true;
    case PMP_NAPOT: {
        /* trailing ones of pmpaddr give the size: 2^(ones + 3) bytes */
        unsigned ones = (unsigned)__builtin_ctzll(~a);
        if (ones >= 54) {
            *lo = 0;
            *hi = UINT64_MAX;
        } else {
            uint64_t size = 1ull << (ones + 3);
            *lo = (a << 2) & ~(size - 1);
            *hi = *lo + size;
        }
        return true;
    }
    }
    return false;
}

/*
 * PMP check of [pa, pa+len) for an access of type acc at privilege priv.
 * *whole_page is set when the same answer holds for the whole 4 KiB page,
 * so the result may be cached in the TLB.
 */
static bool pmp_allows(const struct rv_hart *h, uint64_t pa, uint64_t len,
                       enum rv_access acc, unsigned priv, bool *whole_page)
{
    static const uint8_t need[3] = { PMP_R, PMP_W, PMP_X };
    uint64_t page = pa & RV_PAGE_MASK, page_end = page + RV_PAGE_SIZE;

    *whole_page = true;
    if (!h->pmp_active) {
        /* Priv spec 3.7.1: with PMP entries implemented, an S or U access
         * that matches none fails, even when all are off. */
        return priv == RV_PRIV_M;
    }
    for (unsigned i = 0; i < RV_NUM_PMP; i++) {
        uint64_t lo, hi;
        if (!pmp_range(h, i, &lo, &hi)) {
            continue;
        }
        if (hi <= page || lo >= page_end) {
            continue;
        }
        if (lo > page || hi < page_end) {
            *whole_page = false;
        }
        if (pa + len <= lo || pa >= hi) {
            continue; /* overlaps the page but not this access */
        }
        if (pa < lo || pa + len > hi) {
            return false; /* partial match fails */
        }
        if (priv == RV_PRIV_M && !(h->pmpcfg[i] & PMP_L)) {
            return true;
        }
        return (h->pmpcfg[i] & need[acc]) != 0;
    }
    return priv == RV_PRIV_M;
}

static unsigned fault_cause(enum rv_access acc, bool page)
{
    if (acc == RV_ACC_FETCH) {
        return page ? RV_EXC_INSN_PAGE : RV_EXC_INSN_ACCESS;
    }
    if (acc == RV_ACC_WRITE) {
        return page ? RV_EXC_STORE_PAGE : RV_EXC_STORE_ACCESS;
    }
    return page ? RV_EXC_LOAD_PAGE : RV_EXC_LOAD_ACCESS;
}

/*
 * Walk the page tables. Returns 0 and the physical address, or the
 * exception cause. *leaf_d tells whether the leaf's D bit is (now) set and
 * *user whether the page is a U page.
 */
static unsigned walk(struct rv_hart *h, uint64_t va, enum rv_access acc,
                     unsigned priv, uint64_t *pa, bool *leaf_d, bool *user)
{
    unsigned mode = (unsigned)(h->satp >> 60), levels;
    uint64_t base = (h->satp & ((1ull << 44) - 1)) << RV_PAGE_SHIFT;
    struct mem_map *mem = h->cpu->mem;

    switch (mode) {
    case 8:
        levels = 3;
        break;
    case 9:
        levels = 4;
        break;
    case 10:
        levels = 5;
        break;
    default:
        *pa = va;
        *leaf_d = true;
        *user = false;
        return 0;
    }
    unsigned va_bits = 12 + 9 * levels;
    if ((uint64_t)((int64_t)(va << (64 - va_bits)) >> (64 - va_bits)) != va) {
        return fault_cause(acc, true);
    }
    for (int lvl = (int)levels - 1; lvl >= 0; lvl--) {
        uint64_t idx = (va >> (12 + 9 * lvl)) & 511;
        uint64_t pte_addr = base + idx * 8;
        bool whole;
        uint64_t *pte_p;
        if (!pmp_allows(h, pte_addr, 8, RV_ACC_READ, RV_PRIV_S, &whole)) {
            return fault_cause(acc, false);
        }
        pte_p = mem_ptr(mem, pte_addr, 8, true);
        if (!pte_p) {
            log_guest("hart %u: page table at 0x%llx is not in RAM",
                      (unsigned)h->hartid, (unsigned long long)pte_addr);
            return fault_cause(acc, false);
        }
        uint64_t pte = __atomic_load_n(pte_p, __ATOMIC_RELAXED);
        if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) ||
            (pte & (PTE_RESERVED | PTE_N))) {
            return fault_cause(acc, true);
        }
        if ((pte & PTE_PBMT) &&
            (!(h->menvcfg & MENVCFG_PBMTE) || (pte & PTE_PBMT) == PTE_PBMT)) {
            return fault_cause(acc, true);
        }
        uint64_t ppn = (pte & PTE_PPN_MASK) >> 10;
        if (!(pte & (PTE_R | PTE_X))) {
            /* Svpbmt: PBMT is reserved in non-leaf PTEs and faults. */
            if (lvl == 0 || (pte & PTE_PBMT)) {
                return fault_cause(acc, true);
            }
            base = ppn << RV_PAGE_SHIFT;
            continue;
        }
        /* Leaf: alignment of superpages. */
        if (lvl > 0 && (ppn & ((1ull << (9 * lvl)) - 1))) {
            return fault_cause(acc, true);
        }
        /* Permissions. */
        if (priv == RV_PRIV_U && !(pte & PTE_U)) {
            return fault_cause(acc, true);
        }
        if (priv == RV_PRIV_S && (pte & PTE_U)) {
            if (acc == RV_ACC_FETCH || !(h->mstatus & MSTATUS_SUM)) {
                return fault_cause(acc, true);
            }
        }
        if (acc == RV_ACC_FETCH && !(pte & PTE_X)) {
            return fault_cause(acc, true);
        }
        if (acc == RV_ACC_READ &&
            !((pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X)))) {
            return fault_cause(acc, true);
        }
        if (acc == RV_ACC_WRITE && !(pte & PTE_W)) {
            return fault_cause(acc, true);
        }
        /* Hardware A/D update. */
        uint64_t want = pte | PTE_A | (acc == RV_ACC_WRITE ? PTE_D : 0);
        if (want != pte) {
            if (!__atomic_compare_exchange_n(pte_p, &pte, want, false,
                                             __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST)) {
                /* Changed under us (another agent): walk again. */
                return walk(h, va, acc, priv, pa, leaf_d, user);
            }
            pte = want;
        }
        uint64_t off_mask = (1ull << (12 + 9 * lvl)) - 1;
        *pa = ((ppn << RV_PAGE_SHIFT) & ~off_mask) | (va & off_mask);
        *leaf_d = (pte & PTE_D) != 0;
        *user = (pte & PTE_U) != 0;
        return 0;
    }
    return fault_cause(acc, true);
}

/* Effective privilege for an access type. */
static inline unsigned acc_priv(const struct rv_hart *h, enum rv_access acc)
{
    return acc == RV_ACC_FETCH ? h->priv : h->data_priv;
}

/*
 * Translate va for acc and check PMP for [pa, pa+len). On success fill the
 * TLB when the page is RAM and cacheable. Returns 0 or the exception cause.
 */
/* User mode (rv.h): the guest address is the host address; the hooks
 * say which pages the guest may touch. */
static unsigned translate_user(struct rv_hart *h, uint64_t va, uint64_t len,
                               enum rv_access acc, uint64_t *pa_out)
{
    if (!h->cpu->user->page_ok(va, (enum rv_user_access)acc) ||
        !h->cpu->user->page_ok(va + len - 1, (enum rv_user_access)acc)) {
        return fault_cause(acc, true);
    }
    *pa_out = va;
    if (((va ^ (va + len - 1)) & RV_PAGE_MASK) == 0) {
        struct rv_tlb_entry *e =
            &h->tlb[acc][(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
        e->tag = rv_tlb_tag(va, RV_PRIV_U);
        e->addend = 0;
    }
    return 0;
}

static unsigned translate(struct rv_hart *h, uint64_t va, uint64_t len,
                          enum rv_access acc, uint64_t *pa_out)
{
    unsigned priv = acc_priv(h, acc);
    uint64_t pa;
    bool dirty = true, user = false, whole;
    unsigned cause;

    if (h->cpu->user) {
        return translate_user(h, va, len, acc, pa_out);
    }
    if (priv == RV_PRIV_M) {
        pa = va;
    } else {
        cause = walk(h, va, acc, priv, &pa, &dirty, &user);
        if (cause) {
            if (log_enabled(LOG_MMU)) {
                log_msg("mmu: hart %u va 0x%llx acc %d priv %u: cause %u",
                        (unsigned)h->hartid, (unsigned long long)va, acc, priv,
                        cause);
            }
            return cause;
        }
    }
    if (!pmp_allows(h, pa, len, acc, priv, &whole)) {
        return fault_cause(acc, false);
    }
    *pa_out = pa;
    if (whole && (acc != RV_ACC_WRITE || dirty)) {
        uint8_t *host = mem_ptr(h->cpu->mem, pa & RV_PAGE_MASK, RV_PAGE_SIZE,
                                acc == RV_ACC_WRITE);
        if (host) {
            struct rv_tlb_entry *e =
                &h->tlb[acc][(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
            e->tag = rv_tlb_tag(va, priv);
            e->addend = (uintptr_t)host - (uintptr_t)(va & RV_PAGE_MASK);
            if (user && priv == RV_PRIV_S) {
                h->tlb_has_sum = true;
            }
        }
    }
    return 0;
}

/* Physical access of one naturally aligned piece (size 1..8) within a
 * page. Returns false on an access fault. */
static bool phys_load(struct rv_hart *h, uint64_t pa, unsigned size,
                      uint64_t *val)
{
    const uint8_t *p = h->cpu->user ? (const uint8_t *)(uintptr_t)pa
                                    : mem_ptr(h->cpu->mem, pa, size, false);
    if (p) {
        uint64_t v = 0;
        memcpy(&v, p, size);
        *val = v;
        return true;
    }
    bus_read(h->cpu->bus, pa, size, val);
    return true;
}

static bool phys_store(struct rv_hart *h, uint64_t pa, unsigned size,
                       uint64_t val)
{
    uint8_t *p = h->cpu->user ? (uint8_t *)(uintptr_t)pa
                              : mem_ptr(h->cpu->mem, pa, size, true);
    if (p) {
        memcpy(p, &val, size);
        return true;
    }
    bus_write(h->cpu->bus, pa, size, val);
    return true;
}

bool rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa;
    unsigned cause;

    if ((va & (size - 1)) == 0) {
        cause = translate(h, va, size, RV_ACC_READ, &pa);
        if (cause) {
            rv_raise(h, cause, va);
            return false;
        }
        return phys_load(h, pa, size, val);
    }
    /* Misaligned: byte by byte (each byte translated; faults report the
     * first failing byte's address as the spec permits). */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t b;
        cause = translate(h, va + i, 1, RV_ACC_READ, &pa);
        if (cause) {
            rv_raise(h, cause, va + i);
            return false;
        }
        phys_load(h, pa, 1, &b);
        v |= (b & 0xff) << (8 * i);
    }
    *val = v;
    return true;
}

bool rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val)
{
    uint64_t pa;
    unsigned cause;

    if ((va & (size - 1)) == 0) {
        cause = translate(h, va, size, RV_ACC_WRITE, &pa);
        if (cause) {
            rv_raise(h, cause, va);
            return false;
        }
        return phys_store(h, pa, size, val);
    }
    /* Translate every byte first so a fault leaves memory untouched. */
    uint64_t pas[8];
    for (unsigned i = 0; i < size; i++) {
        cause = translate(h, va + i, 1, RV_ACC_WRITE, &pas[i]);
        if (cause) {
            rv_raise(h, cause, va + i);
            return false;
        }
    }
    for (unsigned i = 0; i < size; i++) {
        phys_store(h, pas[i], 1, (val >> (8 * i)) & 0xff);
    }
    return true;
}

void *rv_amo_ptr(struct rv_hart *h, uint64_t va, unsigned size, bool is_lr)
{
    enum rv_access acc = is_lr ? RV_ACC_READ : RV_ACC_WRITE;
    uint64_t pa;
    unsigned cause;
    void *p;

    if (va & (size - 1)) {
        rv_raise(h, is_lr ? RV_EXC_LOAD_MISALIGNED : RV_EXC_STORE_MISALIGNED,
                 va);
        return NULL;
    }
    cause = translate(h, va, size, acc, &pa);
    if (cause) {
        rv_raise(h, cause, va);
        return NULL;
    }
    p = h->cpu->user ? (void *)(uintptr_t)pa
                     : mem_ptr(h->cpu->mem, pa, size, !is_lr);
    if (!p) {
        /* AMOs on MMIO or ROM are not supported: access fault. */
        rv_raise(h, is_lr ? RV_EXC_LOAD_ACCESS : RV_EXC_STORE_ACCESS, va);
        return NULL;
    }
    return p;
}

bool rv_translate_fetch(struct rv_hart *h, uint64_t va, uint64_t *pa,
                        const uint8_t **host, uint64_t *room)
{
    unsigned cause = translate(h, va, 2, RV_ACC_FETCH, pa);
    const struct mem_block *blk;

    if (cause) {
        rv_raise(h, cause, va);
        return false;
    }
    if (h->cpu->user) {
        *host = (const uint8_t *)(uintptr_t)va;
        *room = RV_PAGE_SIZE - (va & (RV_PAGE_SIZE - 1));
        return true;
    }
    blk = mem_find(h->cpu->mem, *pa, 2);
    if (!blk) {
        rv_raise(h, RV_EXC_INSN_ACCESS, va);
        return false;
    }
    *host = blk->host + (*pa - blk->gpa);
    *room = RV_PAGE_SIZE - (*pa & (RV_PAGE_SIZE - 1));
    if (*room > blk->gpa + blk->size - *pa) {
        *room = blk->gpa + blk->size - *pa;
    }
    return true;
}

bool rv_cbo_zero(struct rv_hart *h, uint64_t va)
{
    uint64_t line = va & ~63ull, pa;
    unsigned cause = translate(h, line, 64, RV_ACC_WRITE, &pa);
    uint8_t *p;

    if (cause) {
        rv_raise(h, cause, va);
        return false;
    }
    p = h->cpu->user ? (uint8_t *)(uintptr_t)pa
                     : mem_ptr(h->cpu->mem, pa, 64, true);
    if (p) {
        memset(p, 0, 64);
    } else {
        for (unsigned i = 0; i < 64; i += 8) {
            bus_write(h->cpu->bus, pa + i, 8, 0);
        }
    }
    return true;
}

bool rv_cbo_probe(struct rv_hart *h, uint64_t va)
{
    uint64_t pa;
    unsigned cause = translate(h, va & ~63ull, 1, RV_ACC_READ, &pa);

    if (cause) {
        /* CMO spec: cache-block management faults are store/AMO faults. */
        rv_raise(h,
                 cause == RV_EXC_LOAD_PAGE ? RV_EXC_STORE_PAGE
                                           : RV_EXC_STORE_ACCESS,
                 va);
        return false;
    }
    return true;
}
