/* SPDX-License-Identifier: MIT */
/*
 * The RV64GC CPU emulator's public face, for boards and interrupt
 * controllers. The harts of one machine run round-robin on one vCPU thread
 * (design.md "Threads and locking"), which makes LR/SC and AMOs atomic
 * across harts by construction. Interrupt controllers set the MIP bits
 * they own with rv_hart_set_irq() from any thread.
 */
#ifndef SWEDE_CPU_RISCV_RV_H
#define SWEDE_CPU_RISCV_RV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct bus;
struct error;
struct mem_map;
struct rv_cpu;
struct rv_hart;

#define RV_MAX_HARTS   8
#define RV_TIMEBASE_HZ 10000000ULL /* mtime ticks per second, as QEMU */

/* MIP bit numbers driven by interrupt controllers. */
#define RV_IRQ_S_SOFT  1
#define RV_IRQ_M_SOFT  3
#define RV_IRQ_S_TIMER 5
#define RV_IRQ_M_TIMER 7
#define RV_IRQ_S_EXT   9
#define RV_IRQ_M_EXT   11

struct rv_user_hooks;

struct rv_cpu_config {
    unsigned nharts;
    uint64_t reset_pc; /* every hart starts here in M-mode */
    struct mem_map *mem;
    struct bus *bus;
    unsigned satp_modes; /* bitmask of 1u<<8 (Sv39), 1u<<9, 1u<<10 */
    /* Non-NULL: user mode (below); mem and bus are then unused. */
    const struct rv_user_hooks *user;
};

struct rv_cpu *rv_cpu_new(const struct rv_cpu_config *cfg, struct error *err);
void rv_cpu_free(struct rv_cpu *cpu);
unsigned rv_cpu_nharts(const struct rv_cpu *cpu);
struct rv_hart *rv_cpu_hart(struct rv_cpu *cpu, unsigned i);

/* Reset every hart to reset_pc, M-mode; flush caches. CPU thread stopped. */
void rv_cpu_reset(struct rv_cpu *cpu);

/*
 * Run the harts until rv_cpu_stop() is called or runstate_pending(). When
 * every hart waits for an interrupt (WFI) the thread sleeps until the next
 * timer deadline or a kick. Returns on the vCPU thread.
 */
void rv_cpu_run(struct rv_cpu *cpu);
/* Any thread: make rv_cpu_run() return soon. */
void rv_cpu_stop(struct rv_cpu *cpu);
/* Any thread: wake a sleeping vCPU thread to re-check interrupts. */
void rv_cpu_kick(struct rv_cpu *cpu);

/* The machine timer (mtime), RV_TIMEBASE_HZ ticks since reset. */
uint64_t rv_cpu_time(struct rv_cpu *cpu);
void rv_cpu_set_time(struct rv_cpu *cpu, uint64_t mtime);

/* Any thread: level of an interrupt-controller-owned MIP bit
 * (RV_IRQ_M_SOFT, RV_IRQ_M_EXT, RV_IRQ_S_EXT). Kicks the CPU. */
void rv_hart_set_irq(struct rv_hart *h, unsigned bit, int level);
/* vCPU thread (or any thread while the CPU is stopped): the CLINT's
 * mtimecmp for this hart; MTIP follows
 * mtime >= mtimecmp without further calls. */
void rv_hart_set_mtimecmp(struct rv_hart *h, uint64_t val);
uint64_t rv_hart_get_mtimecmp(const struct rv_hart *h);

/* ISA strings as implemented, for the device tree. */
const char *rv_isa_string(void);            /* "rv64imafdc_zicsr_..." */
const char *const *rv_isa_extensions(void); /* NULL-terminated list */

/* For info registers and tests: copy of architectural state. */
struct rv_hart_state {
    uint64_t pc;
    uint64_t x[32];
    uint64_t f[32];
    unsigned priv;
    uint64_t hartid, mstatus, mip, mie, mideleg, medeleg, mtvec, stvec;
    uint64_t mepc, sepc, mcause, scause, mtval, stval, mscratch, sscratch;
    uint64_t satp, fcsr;
};
/* The CPU must be stopped (or h not running) for a consistent copy. */
void rv_hart_get_state(const struct rv_hart *h, struct rv_hart_state *st);
/* Write st as QEMU's "info registers" does for riscv64 (pc, the main
 * M/S CSRs, x0..x31 and f0..f31 with ABI names, four to a line). */
void rv_hart_state_print(const struct rv_hart_state *st, FILE *f);

/*
 * User mode, for linux-user emulation (src/user, docs/user.md). A CPU
 * created with cfg->user set has harts that run only in U-mode, without
 * translation, PMP, interrupts or a bus: a guest virtual address is the
 * host address itself, and every trap (ECALL, faults, illegal
 * instructions, EBREAK) ends rv_user_run() instead of entering a handler.
 * AMOs and LR/SC are host atomics, so one CPU per guest thread can run on
 * its own host thread. Everything else (decoder, interpreter, FPU, block
 * cache) is the virt machine's code. All functions run on the thread that
 * runs the hart unless said otherwise.
 */
enum rv_user_access {
    RV_USER_READ = 0,
    RV_USER_WRITE = 1,
    RV_USER_EXEC = 2,
};

struct rv_user_hooks {
    /* May the guest access the page holding va this way? Asked on TLB
     * misses only; a false answer is a page fault (rv_user_run returns
     * 12, 13 or 15). Called from every hart's thread. */
    bool (*page_ok)(uint64_t va, enum rv_user_access acc);
};

/* Architectural state of a user-mode hart, read and written in place. */
struct rv_user_regs {
    uint64_t *x; /* x[0..31]; x[0] must stay 0 */
    uint64_t *f; /* f[0..31], NaN-boxed singles */
    uint64_t *pc;
};
void rv_user_regs(struct rv_hart *h, struct rv_user_regs *r);
uint32_t rv_user_fcsr(const struct rv_hart *h);
void rv_user_set_fcsr(struct rv_hart *h, uint32_t fcsr);

/*
 * Run the hart for up to budget instructions. Returns -1 when the budget
 * was spent or the CPU was kicked, else the exception cause (8 for ECALL,
 * with pc still at the ECALL) with *tval as mtval would hold it.
 */
int rv_user_run(struct rv_hart *h, uint64_t budget, uint64_t *tval);
/* Async-signal-safe, any thread: make rv_user_run() return soon. */
void rv_user_kick(struct rv_cpu *cpu);
/* Guest mappings or code changed: drop the TLBs and re-check decoded
 * blocks against memory before they run again. */
void rv_user_flush(struct rv_cpu *cpu);

#endif
