/* SPDX-License-Identifier: MIT */
/*
 * Bare-metal runtime for swede's guest test programs on the riscv64 virt
 * board: console output through the ns16550a, exit through the sifive test
 * finisher, CSR helpers, M- and S-mode trap hooks and run_lower() to call a
 * function in S- or U-mode. Only M-mode code prints; code running in lower
 * modes records into globals and returns. Not a libc.
 */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdint.h>

#define MAX_HARTS 4

/* virt board (QEMU hw/riscv/virt.c) */
#define UART0_BASE        0x10000000UL
#define UART0_IRQ         10
#define FINISHER_BASE     0x100000UL
#define CLINT_BASE        0x2000000UL
#define CLINT_MSIP(h)     (CLINT_BASE + 4 * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000 + 8 * (h))
#define CLINT_MTIME       (CLINT_BASE + 0xbff8)
#define PLIC_BASE         0xc000000UL
#define PLIC_PRIO(irq)    (PLIC_BASE + 4 * (irq))
#define PLIC_PENDING(irq) (PLIC_BASE + 0x1000 + 4 * ((irq) / 32))
#define PLIC_ENABLE(ctx, irq) \
    (PLIC_BASE + 0x2000 + 0x80 * (ctx) + 4 * ((irq) / 32))
#define PLIC_THRESHOLD(ctx) (PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)     (PLIC_BASE + 0x200004 + 0x1000 * (ctx))

/* privileged spec constants */
#define PRV_U                  0
#define PRV_S                  1
#define PRV_M                  3
#define MSTATUS_SIE            (1UL << 1)
#define MSTATUS_MIE            (1UL << 3)
#define MSTATUS_SPIE           (1UL << 5)
#define MSTATUS_MPIE           (1UL << 7)
#define MSTATUS_SPP            (1UL << 8)
#define MSTATUS_MPP            (3UL << 11)
#define MSTATUS_FS             (3UL << 13)
#define MSTATUS_MPRV           (1UL << 17)
#define MSTATUS_SUM            (1UL << 18)
#define MSTATUS_MXR            (1UL << 19)
#define MSTATUS_TVM            (1UL << 20)
#define MSTATUS_TW             (1UL << 21)
#define MSTATUS_TSR            (1UL << 22)
#define MIP_SSIP               (1UL << 1)
#define MIP_MSIP               (1UL << 3)
#define MIP_STIP               (1UL << 5)
#define MIP_MTIP               (1UL << 7)
#define MIP_SEIP               (1UL << 9)
#define MIP_MEIP               (1UL << 11)
#define CAUSE_INTR             (1UL << 63)
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL          2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE       12
#define CAUSE_LOAD_PAGE        13
#define CAUSE_STORE_PAGE       15

/* ecall a7 value meaning "return to run_lower's caller with a0" */
#define LOWER_EXIT_MAGIC 0x5ede

#define STR_(x) #x
#define STR(x)  STR_(x)
#define csr_read(csr)                                            \
    ({                                                           \
        unsigned long v_;                                        \
        asm volatile("csrr %0, " STR(csr) : "=r"(v_)::"memory"); \
        v_;                                                      \
    })
#define csr_write(csr, val)                                           \
    asm volatile("csrw " STR(csr) ", %0" ::"rK"((unsigned long)(val)) \
                 : "memory")
#define csr_set(csr, val)                                             \
    asm volatile("csrs " STR(csr) ", %0" ::"rK"((unsigned long)(val)) \
                 : "memory")
#define csr_clear(csr, val)                                           \
    asm volatile("csrc " STR(csr) ", %0" ::"rK"((unsigned long)(val)) \
                 : "memory")
#define csr_swap(csr, val)                        \
    ({                                            \
        unsigned long v_;                         \
        asm volatile("csrrw %0, " STR(csr) ", %1" \
                     : "=r"(v_)                   \
                     : "r"((unsigned long)(val))  \
                     : "memory");                 \
        v_;                                       \
    })

static inline void mmio_w32(unsigned long a, uint32_t v)
{
    *(volatile uint32_t *)a = v;
}
static inline uint32_t mmio_r32(unsigned long a)
{
    return *(volatile uint32_t *)a;
}
static inline void mmio_w64(unsigned long a, uint64_t v)
{
    *(volatile uint64_t *)a = v;
}
static inline uint64_t mmio_r64(unsigned long a)
{
    return *(volatile uint64_t *)a;
}
static inline void mmio_w8(unsigned long a, uint8_t v)
{
    *(volatile uint8_t *)a = v;
}
static inline uint8_t mmio_r8(unsigned long a)
{
    return *(volatile uint8_t *)a;
}
static inline unsigned long hartid(void)
{
    return csr_read(mhartid);
}
static inline void fence(void)
{
    asm volatile("fence rw, rw" ::: "memory");
}
static inline void wfi(void)
{
    asm volatile("wfi" ::: "memory");
}

/* Registers as saved by the trap entries; x[2] is the interrupted sp.
 * Handlers change epc/status/x[] in the frame, never the CSRs. */
struct trap_frame {
    uint64_t x[32];
    uint64_t epc, status, cause, tval;
};

/* A hook returns TRAP_RESUME (xret to frame->epc) or TRAP_EXIT_LOWER
 * (M only: abandon the lower-mode code and make run_lower() return
 * frame->x[10]). */
#define TRAP_RESUME     0
#define TRAP_EXIT_LOWER 1
typedef int (*trap_hook_fn)(struct trap_frame *f);
extern volatile trap_hook_fn m_hook, s_hook;

/* What rec_hook saw last. */
struct trap_record {
    unsigned long count, cause, tval, epc, prev_mode;
};
extern volatile struct trap_record last_trap;
#define TRAPPED 0xbadc0ffeUL
/* Records the trap; from a lower mode exits with TRAPPED, from the mode
 * that handles it skips the faulting instruction. Use with m_hook or
 * s_hook. */
int rec_hook(struct trap_frame *f);
void expect_traps(void); /* m_hook = s_hook = rec_hook, count = 0 */
void no_traps(void);     /* unexpected traps fail the test */

/* Calls fn(a0, a1) in privilege mode (PRV_S or PRV_U) on a lower-mode
 * stack; returns fn's result, or what a TRAP_EXIT_LOWER hook chose. The
 * caller sets up satp, PMP, medeleg etc. */
long run_lower(long mode, void *fn, long a0, long a1);
extern char lower_stack_top[];

/* Secondary harts wait in WFI for hart_start(). */
typedef void (*hart_fn)(unsigned long hartid);
void hart_start(unsigned long hart, hart_fn fn);

void putc_(char c);
void puts_(const char *s);
/* %d %u %x (64-bit, no padding), %s, %c; "%08x"-style zero padding. */
void pr(const char *fmt, ...);
void vpr(const char *fmt, va_list ap);
void __attribute__((noreturn)) finish(int code); /* 0 = pass */

/* self-checks: each failure prints and is counted; main returns fails */
extern int fails;
#define CHECK(cond)                                            \
    do {                                                       \
        if (!(cond)) {                                         \
            pr("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            fails++;                                           \
        }                                                      \
    } while (0)
#define CHECK_EQ(a, b)                                                      \
    do {                                                                    \
        unsigned long a_ = (unsigned long)(a), b_ = (unsigned long)(b);     \
        if (a_ != b_) {                                                     \
            pr("FAIL %s:%d: %s == %s (0x%x != 0x%x)\n", __FILE__, __LINE__, \
               #a, #b, a_, b_);                                             \
            fails++;                                                        \
        }                                                                   \
    } while (0)

/* PMP: entry 15 is the runtime's catch-all RWX NAPOT so that S/U can run;
 * tests program lower entries (higher priority) and may clear it. */
void pmp_set(int idx, unsigned long addr, unsigned cfg);
#define PMP_R     1
#define PMP_W     2
#define PMP_X     4
#define PMP_TOR   (1 << 3)
#define PMP_NA4   (2 << 3)
#define PMP_NAPOT (3 << 3)
#define PMP_L     0x80
static inline unsigned long pmp_napot(unsigned long base, unsigned long size)
{
    return (base >> 2) | ((size >> 3) - 1);
}
void pmp_allow_all(void);

int main(void);

#endif

/* lower.S helpers for run_lower() */
long lo_ld(long addr);
long lo_lw(long addr);
long lo_sd(long addr, long val);
long lo_amoadd(long addr, long val);
long lo_jump(long addr);
long lo_ecall(void);
long lo_ebreak(void);
long lo_illegal(void);
long lo_csrr_mstatus(void);
long lo_csrr_sstatus(void);
long lo_csrr_cycle(void);
long lo_csrr_time(void);
long lo_csrr_instret(void);
long lo_csrr_satp(void);
long lo_wfi(void);
long lo_mret(void);
long lo_sret(void);
long lo_sfence(void);
long lo_sret_to_s(void);
long lo_wait_flag(long addr, long iters);
long lo_spin(long addr, long iters);
long mprv_ld(long addr);
long mprv_sd(long addr, long val);
#define LOWER0(mode, fn)    run_lower((mode), (void *)(fn), 0, 0)
#define LOWER1(mode, fn, a) run_lower((mode), (void *)(fn), (long)(a), 0)
#define LOWER2(mode, fn, a, b) \
    run_lower((mode), (void *)(fn), (long)(a), (long)(b))
extern char s_trap_entry[], m_trap_entry[];
extern char _text_start[], _text_end[], _end[];
