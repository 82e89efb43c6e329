/* SPDX-License-Identifier: MIT */
/*
 * An NS16550A UART (as QEMU's serial-mm with reg-shift 0): 16-byte FIFOs,
 * divisor latch, LSR/MSR, THRE and RDA interrupts through one irq line,
 * scratch register. Output goes to a chardev; input comes from it on the
 * main-loop thread. Register accesses run under the device lock.
 */
#ifndef SWEDE_HW_CHAR_UART16550_H
#define SWEDE_HW_CHAR_UART16550_H

#include <stdint.h>

#include "bus/irq.h"

struct bus;
struct chardev;
struct error;
struct uart16550;

#define UART16550_SIZE     0x100u
#define UART16550_CLOCK_HZ 3686400u

/* chr may be NULL (-serial none/null: output discarded). */
struct uart16550 *uart16550_new(struct bus *bus, uint64_t base,
                                struct chardev *chr, struct irq_line irq,
                                struct error *err);
void uart16550_free(struct uart16550 *u);
void uart16550_reset(struct uart16550 *u);

#endif
