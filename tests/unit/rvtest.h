/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the RISC-V CPU unit tests: a tiny in-process machine
 * (1 MiB of RAM at 0x80000000, an empty bus, one hart), instruction
 * encoders, and a runner that executes block by block until the hart sits
 * on a `j .` self-loop. Every test program ends in `j .`, and the M and S
 * trap vectors are filled with `j .`, so "stopped" means either "ran to the
 * end" or "trapped"; the test then looks at pc, registers and CSRs.
 *
 * The encoders follow the RISC-V unprivileged spec's base formats (chapter
 * "RV32I Base Integer Instruction Set", figure "RISC-V base instruction
 * formats"); they were cross-checked against riscv64-linux-gnu-as when the
 * tests were written. Tests include hart.h (internal state) on purpose.
 */
#ifndef SWEDE_TESTS_RVTEST_H
#define SWEDE_TESTS_RVTEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "cpu/riscv/hart.h"
#include "cpu/riscv/ops.h"
#include "cpu/riscv/rv.h"
#include "mem/mem.h"

#define RVT_RAM_BASE 0x80000000ull
#define RVT_RAM_SIZE 0x100000ull
#define RVT_CODE     RVT_RAM_BASE
#define RVT_MTRAP    (RVT_RAM_BASE + 0x1000) /* 64 x `j .` */
#define RVT_STRAP    (RVT_RAM_BASE + 0x1200) /* 64 x `j .` */
#define RVT_DATA     (RVT_RAM_BASE + 0x10000)
#define RVT_J_SELF   0x0000006fu /* jal x0, 0 */

/* ---- encoders ---------------------------------------------------------- */

/* Macros, so tables of instructions can be static initialisers. */
#define RVT_U32(v) ((uint32_t)(v))
#define enc_r(op, rd, f3, rs1, rs2, f7)                            \
    (RVT_U32(f7) << 25 | RVT_U32(rs2) << 20 | RVT_U32(rs1) << 15 | \
     RVT_U32(f3) << 12 | RVT_U32(rd) << 7 | RVT_U32(op))
#define enc_i(op, rd, f3, rs1, imm)                                \
    (RVT_U32(imm) << 20 | RVT_U32(rs1) << 15 | RVT_U32(f3) << 12 | \
     RVT_U32(rd) << 7 | RVT_U32(op))
#define enc_s(op, f3, rs1, rs2, imm)                                       \
    ((RVT_U32(imm) >> 5 & 0x7f) << 25 | RVT_U32(rs2) << 20 |               \
     RVT_U32(rs1) << 15 | RVT_U32(f3) << 12 | (RVT_U32(imm) & 0x1f) << 7 | \
     RVT_U32(op))
#define enc_b(f3, rs1, rs2, imm)                                         \
    ((RVT_U32(imm) >> 12 & 1) << 31 | (RVT_U32(imm) >> 5 & 0x3f) << 25 | \
     RVT_U32(rs2) << 20 | RVT_U32(rs1) << 15 | RVT_U32(f3) << 12 |       \
     (RVT_U32(imm) >> 1 & 0xf) << 8 | (RVT_U32(imm) >> 11 & 1) << 7 | 0x63)
#define enc_u(op, rd, imm) \
    ((RVT_U32(imm) & 0xfffff000u) | RVT_U32(rd) << 7 | RVT_U32(op))
#define enc_j(rd, imm)                                                    \
    ((RVT_U32(imm) >> 20 & 1) << 31 | (RVT_U32(imm) >> 1 & 0x3ff) << 21 | \
     (RVT_U32(imm) >> 11 & 1) << 20 | (RVT_U32(imm) >> 12 & 0xff) << 12 | \
     RVT_U32(rd) << 7 | 0x6f)
/* R4 (fused multiply-add). */
#define enc_r4(op, rd, rm, rs1, rs2, fmt, rs3)                      \
    (RVT_U32(rs3) << 27 | RVT_U32(fmt) << 25 | RVT_U32(rs2) << 20 | \
     RVT_U32(rs1) << 15 | RVT_U32(rm) << 12 | RVT_U32(rd) << 7 | RVT_U32(op))

/* A few instructions by name. */
#define I_ADDI(rd, rs1, imm)   enc_i(0x13, rd, 0, rs1, imm)
#define I_LB(rd, rs1, imm)     enc_i(0x03, rd, 0, rs1, imm)
#define I_LW(rd, rs1, imm)     enc_i(0x03, rd, 2, rs1, imm)
#define I_LD(rd, rs1, imm)     enc_i(0x03, rd, 3, rs1, imm)
#define I_SW(rs2, rs1, imm)    enc_s(0x23, 2, rs1, rs2, imm)
#define I_SD(rs2, rs1, imm)    enc_s(0x23, 3, rs1, rs2, imm)
#define I_JALR(rd, rs1, imm)   enc_i(0x67, rd, 0, rs1, imm)
#define I_CSRRW(rd, csr, rs1)  enc_i(0x73, rd, 1, rs1, (int32_t)(csr))
#define I_CSRRS(rd, csr, rs1)  enc_i(0x73, rd, 2, rs1, (int32_t)(csr))
#define I_CSRRC(rd, csr, rs1)  enc_i(0x73, rd, 3, rs1, (int32_t)(csr))
#define I_CSRRWI(rd, csr, u)   enc_i(0x73, rd, 5, u, (int32_t)(csr))
#define I_CSRRSI(rd, csr, u)   enc_i(0x73, rd, 6, u, (int32_t)(csr))
#define I_CSRRCI(rd, csr, u)   enc_i(0x73, rd, 7, u, (int32_t)(csr))
#define I_CSRR(rd, csr)        I_CSRRS(rd, csr, 0)
#define I_CSRW(csr, rs1)       I_CSRRW(0, csr, rs1)
#define I_ECALL                0x00000073u
#define I_EBREAK               0x00100073u
#define I_MRET                 0x30200073u
#define I_SRET                 0x10200073u
#define I_WFI                  0x10500073u
#define I_SFENCE_VMA(rs1, rs2) enc_r(0x73, 0, 0, rs1, rs2, 0x09)
#define I_NOP                  I_ADDI(0, 0, 0)

/* ---- the machine ------------------------------------------------------- */

struct rvt {
    struct mem_map mem;
    struct bus *bus;
    struct rv_cpu *cpu;
    struct rv_hart *h;
};

static inline void rvt_write32(struct rvt *t, uint64_t gpa, uint32_t w)
{
    uint8_t b[4] = { (uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16),
                     (uint8_t)(w >> 24) };
    mem_load(&t->mem, gpa, b, 4);
}

static inline void rvt_write64(struct rvt *t, uint64_t gpa, uint64_t v)
{
    rvt_write32(t, gpa, (uint32_t)v);
    rvt_write32(t, gpa + 4, (uint32_t)(v >> 32));
}

static inline uint32_t rvt_read32(struct rvt *t, uint64_t gpa)
{
    uint8_t b[4] = { 0 };
    mem_read(&t->mem, gpa, b, 4);
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
           ((uint32_t)b[3] << 24);
}

static inline uint64_t rvt_read64(struct rvt *t, uint64_t gpa)
{
    return rvt_read32(t, gpa) | ((uint64_t)rvt_read32(t, gpa + 4) << 32);
}

/*
 * A fresh machine: hart 0 in M-mode at RVT_CODE, mtvec = RVT_MTRAP,
 * stvec = RVT_STRAP (both direct mode, filled with `j .`), and one PMP
 * entry granting RWX on all of memory to S and U as firmware would set up,
 * so S/U tests do not depend on how "no PMP entry" is treated.
 */
static inline void rvt_init(struct rvt *t)
{
    struct error err = { 0 };
    struct rv_cpu_config cfg = { 0 };

    memset(t, 0, sizeof(*t));
    if (mem_add_block(&t->mem, RVT_RAM_BASE, RVT_RAM_SIZE, false, "ram", &err) <
        0) {
        abort();
    }
    t->bus = bus_new();
    cfg.nharts = 1;
    cfg.reset_pc = RVT_CODE;
    cfg.mem = &t->mem;
    cfg.bus = t->bus;
    cfg.satp_modes = (1u << 8) | (1u << 9) | (1u << 10);
    t->cpu = rv_cpu_new(&cfg, &err);
    if (!t->cpu || !t->bus) {
        abort();
    }
    t->h = rv_cpu_hart(t->cpu, 0);
    for (unsigned i = 0; i < 64; i++) {
        rvt_write32(t, RVT_MTRAP + 4 * i, RVT_J_SELF);
        rvt_write32(t, RVT_STRAP + 4 * i, RVT_J_SELF);
    }
    t->h->mtvec = RVT_MTRAP;
    t->h->stvec = RVT_STRAP;
    t->h->pmpaddr[0] = (1ull << 54) - 1;
    t->h->pmpcfg[0] = 0x1f; /* NAPOT, RWX */
    t->h->pmp_active = true;
}

static inline void rvt_free(struct rvt *t)
{
    rv_cpu_free(t->cpu);
    bus_free(t->bus);
    mem_free(&t->mem);
}

/* Write n instruction words at gpa followed by `j .`; drops decoded
 * blocks. Returns the address of the final `j .`. */
static inline uint64_t rvt_load(struct rvt *t, uint64_t gpa, const uint32_t *w,
                                unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        rvt_write32(t, gpa + 4 * i, w[i]);
    }
    rvt_write32(t, gpa + 4ull * n, RVT_J_SELF);
    rv_block_flush(t->cpu);
    return gpa + 4ull * n;
}

#define RVT_PROG(t, ...)                                       \
    rvt_load((t), RVT_CODE, (const uint32_t[]){ __VA_ARGS__ }, \
             sizeof((const uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t))

static inline bool rvt_at_self_loop(struct rvt *t)
{
    uint8_t b[4];
    if (mem_read(&t->mem, t->h->pc, b, 4) != 0) {
        return false;
    }
    return b[0] == 0x6f && b[1] == 0 && b[2] == 0 && b[3] == 0;
}

/*
 * Run block by block, as rv_cpu_run() would (timer interrupts updated,
 * WFI woken by pending interrupts), until the hart sits on a `j .` (at
 * the physical address equal to pc) or max_steps blocks ran. Returns
 * true when it stopped on a `j .`, false when out of steps or in WFI with
 * nothing pending.
 */
static inline bool rvt_run(struct rvt *t, unsigned max_steps)
{
    struct rv_hart *h = t->h;

    for (unsigned i = 0; i < max_steps; i++) {
        atomic_store(&t->cpu->kicked, false);
        rv_update_timer_irqs(h, rv_time_now(t->cpu));
        if (h->wfi) {
            if (!rv_pending_irqs(h)) {
                return false;
            }
            h->wfi = false;
        }
        rv_exec_slice(h, 1);
        if (h->wfi && !rv_pending_irqs(h)) {
            return false;
        }
        if (rvt_at_self_loop(t)) {
            return true;
        }
    }
    return false;
}

static inline bool rvt_in_mtrap(struct rvt *t)
{
    return t->h->priv == RV_PRIV_M && t->h->pc >= RVT_MTRAP &&
           t->h->pc < RVT_MTRAP + 0x100;
}

static inline bool rvt_in_strap(struct rvt *t)
{
    return t->h->priv == RV_PRIV_S && t->h->pc >= RVT_STRAP &&
           t->h->pc < RVT_STRAP + 0x100;
}

#endif
