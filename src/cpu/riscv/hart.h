/* SPDX-License-Identifier: MIT */
/*
 * Internal state of the RV64GC CPU emulator: the hart, its CSRs, its
 * software TLBs and the machine-wide decoded-block cache. Only the files in
 * src/cpu/riscv include this; boards use rv.h. Everything here runs on the
 * vCPU thread except the fields marked atomic.
 *
 * Shape (so a dynamic translator can plug in later): instructions are
 * decoded once into blocks keyed by physical address (decode.c), executed
 * by exec.c; memory accesses go through per-access-type direct-mapped TLBs
 * that hold host addends for RAM pages, and everything else (MMIO, PMP
 * boundaries inside a page, misaligned or page-crossing accesses) takes the
 * slow path in mmu.c.
 */
#ifndef SWEDE_CPU_RISCV_HART_H
#define SWEDE_CPU_RISCV_HART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cpu/riscv/rv.h"

#define RV_PRIV_U 0u
#define RV_PRIV_S 1u
#define RV_PRIV_M 3u

/* mstatus bits (privileged spec 3.1.6). */
#define MSTATUS_SIE       (1ull << 1)
#define MSTATUS_MIE       (1ull << 3)
#define MSTATUS_SPIE      (1ull << 5)
#define MSTATUS_MPIE      (1ull << 7)
#define MSTATUS_SPP       (1ull << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP       (3ull << 11)
#define MSTATUS_FS_SHIFT  13
#define MSTATUS_FS        (3ull << 13)
#define MSTATUS_MPRV      (1ull << 17)
#define MSTATUS_SUM       (1ull << 18)
#define MSTATUS_MXR       (1ull << 19)
#define MSTATUS_TVM       (1ull << 20)
#define MSTATUS_TW        (1ull << 21)
#define MSTATUS_TSR       (1ull << 22)
#define MSTATUS_UXL       (3ull << 32)
#define MSTATUS_SXL       (3ull << 34)
#define MSTATUS_SD        (1ull << 63)

#define MENVCFG_FIOM  (1ull << 0)
#define MENVCFG_CBIE  (3ull << 4)
#define MENVCFG_CBCFE (1ull << 6)
#define MENVCFG_CBZE  (1ull << 7)
#define MENVCFG_PBMTE (1ull << 62)
#define MENVCFG_STCE  (1ull << 63)

/* Exception causes (privileged spec table 3.6). */
enum rv_exc {
    RV_EXC_INSN_MISALIGNED = 0,
    RV_EXC_INSN_ACCESS = 1,
    RV_EXC_ILLEGAL = 2,
    RV_EXC_BREAKPOINT = 3,
    RV_EXC_LOAD_MISALIGNED = 4,
    RV_EXC_LOAD_ACCESS = 5,
    RV_EXC_STORE_MISALIGNED = 6,
    RV_EXC_STORE_ACCESS = 7,
    RV_EXC_ECALL_U = 8,
    RV_EXC_ECALL_S = 9,
    RV_EXC_ECALL_M = 11,
    RV_EXC_INSN_PAGE = 12,
    RV_EXC_LOAD_PAGE = 13,
    RV_EXC_STORE_PAGE = 15,
};

enum rv_access {
    RV_ACC_READ = 0,
    RV_ACC_WRITE = 1,
    RV_ACC_FETCH = 2,
};

#define RV_TLB_BITS   8
#define RV_TLB_SIZE   (1u << RV_TLB_BITS)
#define RV_PAGE_SHIFT 12
#define RV_PAGE_SIZE  (1ull << RV_PAGE_SHIFT)
#define RV_PAGE_MASK  (~(RV_PAGE_SIZE - 1))

/*
 * One TLB entry: tag is the virtual page number's page address ORed with
 * the privilege tag (rv_tlb_tag), so entries filled in another privilege
 * simply miss; host address = vaddr + addend.
 */
struct rv_tlb_entry {
    uint64_t tag;
    uintptr_t addend;
};

#define RV_NUM_PMP 16

struct rv_hart {
    uint64_t x[32];
    uint64_t f[32];
    uint64_t pc;
    unsigned priv;
    unsigned data_priv; /* effective privilege of loads/stores (MPRV) */

    /* Machine-level CSRs. */
    uint64_t mstatus;
    uint64_t medeleg, mideleg;
    uint64_t mie, mip; /* mip: the software-writable bits (SSIP, STIP, SEIP) */
    uint64_t mtvec, mscratch, mepc, mcause, mtval;
    uint64_t mcounteren, mcountinhibit, menvcfg;
    /* Supervisor-level CSRs (sstatus, sie, sip are views of the above). */
    uint64_t stvec, sscratch, sepc, scause, stval, satp;
    uint64_t scounteren, senvcfg, stimecmp;
    uint32_t fflags, frm;
    uint8_t pmpcfg[RV_NUM_PMP];
    uint64_t pmpaddr[RV_NUM_PMP];
    bool pmp_active; /* some entry is not OFF */

    uint64_t hartid;
    uint64_t instret;      /* retired instructions (also cycle) */
    uint64_t minstret_off; /* minstret = instret + off, for CSR writes */
    uint64_t mcycle_off;
    /* Values held while mcountinhibit stops mcycle (CY) or minstret (IR). */
    uint64_t mcycle_frozen, minstret_frozen;

    /* LR/SC reservation; cleared whenever the hart is switched out. */
    uint64_t res_addr;
    bool res_valid;
    /* User mode: the value LR read (SC is a compare-and-swap), and a trap
     * that ended the slice (cause in mcause, value in mtval). */
    uint64_t res_val;
    bool user_trap;

    bool wfi;     /* waiting for an interrupt */
    bool yielded; /* ran PAUSE: end the slice so other harts run */
    /* S-mode TLB entries for U pages were filled (SUM/MXR clears must
     * flush them). */
    bool tlb_has_sum;

    /* Interrupt-controller-driven MIP bits (MSIP, MEIP, SEIP). */
    _Atomic uint64_t mip_ext;
    _Atomic uint64_t mtimecmp;
    uint64_t mip_timer; /* MTIP/STIP as computed at the last time check */

    struct rv_tlb_entry tlb[3][RV_TLB_SIZE]; /* indexed by enum rv_access */

    struct rv_cpu *cpu;
};

/* A decoded instruction. */
struct rv_insn {
    uint8_t op; /* enum rv_op */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t len;     /* 2 or 4 */
    uint8_t rm;      /* FP rounding mode field */
    uint8_t fmt : 1; /* FP: 1 for double; A: 1 for 64-bit */
    uint8_t sub : 7; /* FP: enum rv_fop / rv_fma_op / rv_fcmp / rv_fint */
    int32_t imm;     /* every RV64GC immediate fits in 32 bits */
    uint32_t raw;    /* the instruction bits (mtval of illegal ones) */
};

_Static_assert(sizeof(struct rv_insn) == 16, "keep decoded blocks dense");

#define RV_BLOCK_MAX 64

struct rv_block {
    uint64_t key;   /* host address of the first byte */
    uint64_t gen;   /* code generation it was last known valid in */
    uint32_t n;     /* instructions */
    uint32_t bytes; /* total length */
    /* Direct successors in the same page (branch taken, fall-through or
     * jump target), linked after they first ran; see exec.c. */
    struct rv_block *succ[2];
    /* The last instruction may change interrupt enables or privilege. */
    bool ends_system;
    struct rv_insn insn[];
};

struct rv_bcache_entry {
    uint64_t key; /* host address of the block's first byte */
    struct rv_block *block;
};

#define RV_BCACHE_BITS 15
#define RV_BCACHE_SIZE (1u << RV_BCACHE_BITS)
#define RV_ARENA_SIZE  (6u << 20)

struct rv_cpu {
    struct rv_hart *harts[RV_MAX_HARTS];
    unsigned nharts;
    uint64_t reset_pc;
    unsigned satp_modes;
    struct mem_map *mem;
    struct bus *bus;
    const struct rv_user_hooks *user; /* user mode (rv.h) when set */

    /* Decoded-block cache: direct-mapped table into a bump arena. A
     * FENCE.I only bumps code_gen; a block from an older generation is
     * used again once its instruction bytes are found unchanged. */
    struct rv_bcache_entry bcache[RV_BCACHE_SIZE];
    uint64_t code_gen;
    uint64_t arena_epoch; /* bumped when the arena is emptied */
    uint8_t *arena;
    size_t arena_used;

    /* Time: mtime = (monotonic_ns - time_base_ns) / 100 + time_add. */
    uint64_t time_base_ns;
    uint64_t time_add;

    atomic_bool stop;
    atomic_bool kicked;
    pthread_mutex_t sleep_lock;
    pthread_cond_t sleep_cond;
};

/* decode.c: decode one instruction (raw holds 16 or 32 bits). */
void rv_decode(uint32_t raw, struct rv_insn *out);
/* decode.c: the block whose first byte is at host (room bytes readable
 * there, up to the page end), decoding it on a miss. The cache is keyed by
 * host address, which names one byte of guest RAM/ROM whatever virtual
 * address reached it. NULL when the first instruction straddles room. */
struct rv_block *rv_block_get(struct rv_cpu *cpu, uint64_t key,
                              const uint8_t *host, uint64_t room);
/* FENCE.I: instruction fetch must see every earlier store. */
void rv_block_invalidate(struct rv_cpu *cpu);
/* Drop every decoded block (reset, arena full). */
void rv_block_flush(struct rv_cpu *cpu);

/* exec.c */
void rv_exec_slice(struct rv_hart *h, uint64_t budget);

/* trap.c */
void rv_raise(struct rv_hart *h, unsigned cause, uint64_t tval);
bool rv_check_interrupts(struct rv_hart *h);
void rv_mret(struct rv_hart *h);
void rv_sret(struct rv_hart *h);
void rv_set_priv(struct rv_hart *h, unsigned priv);

/* csr.c: returns false (after raising illegal-instruction) on failure. */
bool rv_csr_op(struct rv_hart *h, unsigned csr, unsigned op, uint64_t src,
               bool do_write, bool do_read, uint64_t *old, uint32_t raw);
void rv_update_data_priv(struct rv_hart *h);

/* mmu.c */
void rv_tlb_flush(struct rv_hart *h);
/* Slow paths: return false after raising the exception. */
bool rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val);
bool rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val);
/* Host pointer for an aligned atomic access (AMO/LR/SC) of size bytes
 * within RAM, after a write-permission translation; NULL after raising. */
void *rv_amo_ptr(struct rv_hart *h, uint64_t va, unsigned size, bool is_lr);
/* Instruction fetch translation: physical address of va, or false after
 * raising the fault. */
bool rv_translate_fetch(struct rv_hart *h, uint64_t va, uint64_t *pa,
                        const uint8_t **host, uint64_t *room);
/* cbo.zero of the 64-byte block holding va. */
bool rv_cbo_zero(struct rv_hart *h, uint64_t va);
/* Permission check for cbo.clean/flush/inval (no data moves: the
 * emulator's memory is always coherent). */
bool rv_cbo_probe(struct rv_hart *h, uint64_t va);

/* Pending and enabled (in mie) interrupts, before global enables. */
static inline uint64_t rv_pending_irqs(struct rv_hart *h)
{
    uint64_t ext = atomic_load_explicit(&h->mip_ext, memory_order_relaxed);
    return (h->mip | ext | h->mip_timer) & h->mie;
}

static inline uint64_t rv_tlb_tag(uint64_t va, unsigned priv)
{
    return (va & RV_PAGE_MASK) | (priv + 1u);
}

/* cpu.c */
uint64_t rv_time_now(struct rv_cpu *cpu);
void rv_update_timer_irqs(struct rv_hart *h, uint64_t now);

#endif
