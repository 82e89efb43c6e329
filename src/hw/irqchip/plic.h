/* SPDX-License-Identifier: MIT */
/*
 * The SiFive/RISC-V PLIC (riscv-plic-spec 1.0.0) as on QEMU's virt board:
 * sources 1..nsources-1 (source 0 does not exist), priorities, pending
 * bits, per-context enables, thresholds and claim/complete. Each context
 * drives one output line (the board wires context 2*hart to the hart's
 * MEIP and 2*hart+1 to its SEIP). Device lock held for every call.
 */
#ifndef SWEDE_HW_IRQCHIP_PLIC_H
#define SWEDE_HW_IRQCHIP_PLIC_H

#include <stdint.h>

#include "bus/irq.h"

struct bus;
struct error;
struct plic;

#define PLIC_NUM_SOURCES 96 /* as QEMU virt: riscv,ndev = 95 */
#define PLIC_SIZE(nctx)  (0x200000u + (nctx)*0x1000u)

/* ctx_out: ncontexts lines (copied). Maps itself on bus at base. */
struct plic *plic_new(struct bus *bus, uint64_t base, unsigned nsources,
                      unsigned ncontexts, const struct irq_line *ctx_out,
                      struct error *err);
void plic_free(struct plic *p);
void plic_reset(struct plic *p);
/* The input line for source src (1..nsources-1), level-triggered. */
struct irq_line plic_source(struct plic *p, unsigned src);

#endif
