/* SPDX-License-Identifier: MIT */
/*
 * The CLINT / ACLINT MSWI + MTIMER pair at QEMU virt's layout: msip[hart]
 * at 0x0000 (4 bytes each), mtimecmp[hart] at 0x4000 (8 bytes each), mtime
 * at 0xbff8. MSIP drives the hart's M software interrupt; mtimecmp is
 * handed to the CPU (rv_hart_set_mtimecmp), which raises MTIP itself.
 * Device lock held for every call.
 */
#ifndef SWEDE_HW_IRQCHIP_ACLINT_H
#define SWEDE_HW_IRQCHIP_ACLINT_H

#include <stdint.h>

struct aclint;
struct bus;
struct error;
struct rv_cpu;

#define ACLINT_SIZE 0x10000u

struct aclint *aclint_new(struct bus *bus, uint64_t base, struct rv_cpu *cpu,
                          struct error *err);
void aclint_free(struct aclint *c);
void aclint_reset(struct aclint *c);

#endif
