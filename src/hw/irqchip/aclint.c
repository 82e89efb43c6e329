/* SPDX-License-Identifier: MIT */
/*
 * The SiFive CLINT layout as QEMU virt maps it: an ACLINT MSWI device
 * (riscv-aclint 1.0, "Machine-level Software Interrupt Device") at offset
 * 0 and an MTIMER device ("Machine-level Timer Device") with mtimecmp at
 * 0x4000 and mtime at 0xbff8. MSIP holds only bit 0 and drives the hart's
 * MSIP through rv_hart_set_irq(); mtimecmp and mtime live in the CPU,
 * which raises MTIP itself, so this file only decodes registers. 32-bit
 * halves of the 64-bit registers are written independently (RV32-style
 * guests do that). Not here: the SSWI device (0x2f00000 on QEMU virt).
 */
#include "hw/irqchip/aclint.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "cpu/riscv/rv.h"

#define ACLINT_MSIP_BASE     0x0000u
#define ACLINT_MTIMECMP_BASE 0x4000u
#define ACLINT_MTIME         0xbff8u

struct aclint {
    struct rv_cpu *cpu;
    unsigned nharts;
    uint32_t msip[RV_MAX_HARTS];
};

static uint64_t aclint_merge(uint64_t old, uint64_t val, unsigned half,
                             unsigned size)
{
    if (size == 8) {
        return val;
    }
    unsigned shift = half * 32;
    return (old & ~(0xffffffffull << shift)) | ((val & 0xffffffffull) << shift);
}

static uint64_t aclint_read32(struct aclint *c, uint64_t off)
{
    if (off < ACLINT_MTIMECMP_BASE) {
        uint64_t hart = (off - ACLINT_MSIP_BASE) / 4;
        if (hart >= c->nharts) {
            log_guest("aclint: msip read for missing hart %llu",
                      (unsigned long long)hart);
            return 0;
        }
        return c->msip[hart];
    }
    return 0;
}

static uint64_t aclint_read(void *opaque, uint64_t off, unsigned size)
{
    struct aclint *c = opaque;

    if (off < ACLINT_MTIMECMP_BASE) {
        if (size == 8) {
            return aclint_read32(c, off) | aclint_read32(c, off + 4) << 32;
        }
        return aclint_read32(c, off);
    }
    if (off >= ACLINT_MTIME) {
        uint64_t t = rv_cpu_time(c->cpu);
        return size == 8 ? t : (uint32_t)(t >> ((off & 4) * 8));
    }
    uint64_t hart = (off - ACLINT_MTIMECMP_BASE) / 8;
    if (hart >= c->nharts) {
        log_guest("aclint: mtimecmp read for missing hart %llu",
                  (unsigned long long)hart);
        return 0;
    }
    uint64_t cmp = rv_hart_get_mtimecmp(rv_cpu_hart(c->cpu, (unsigned)hart));
    return size == 8 ? cmp : (uint32_t)(cmp >> ((off & 4) * 8));
}

static void aclint_write_msip(struct aclint *c, uint64_t off, uint32_t val)
{
    uint64_t hart = (off - ACLINT_MSIP_BASE) / 4;
    if (hart >= c->nharts) {
        log_guest("aclint: msip write for missing hart %llu",
                  (unsigned long long)hart);
        return;
    }
    /* Only bit 0 is implemented; the rest is WARL zero. */
    c->msip[hart] = val & 1;
    rv_hart_set_irq(rv_cpu_hart(c->cpu, (unsigned)hart), RV_IRQ_M_SOFT,
                    (int)c->msip[hart]);
}

static void aclint_write(void *opaque, uint64_t off, uint64_t val,
                         unsigned size)
{
    struct aclint *c = opaque;

    if (off < ACLINT_MTIMECMP_BASE) {
        aclint_write_msip(c, off, (uint32_t)val);
        if (size == 8) {
            aclint_write_msip(c, off + 4, (uint32_t)(val >> 32));
        }
        return;
    }
    unsigned half = (off & 4) ? 1 : 0;
    if (off >= ACLINT_MTIME) {
        uint64_t t = rv_cpu_time(c->cpu);
        rv_cpu_set_time(c->cpu, aclint_merge(t, val, half, size));
        return;
    }
    uint64_t hart = (off - ACLINT_MTIMECMP_BASE) / 8;
    if (hart >= c->nharts) {
        log_guest("aclint: mtimecmp write for missing hart %llu",
                  (unsigned long long)hart);
        return;
    }
    struct rv_hart *h = rv_cpu_hart(c->cpu, (unsigned)hart);
    uint64_t cmp = rv_hart_get_mtimecmp(h);
    rv_hart_set_mtimecmp(h, aclint_merge(cmp, val, half, size));
}

static const struct bus_ops aclint_ops = {
    .read = aclint_read,
    .write = aclint_write,
    .min_size = 4,
    .max_size = 8,
};

struct aclint *aclint_new(struct bus *bus, uint64_t base, struct rv_cpu *cpu,
                          struct error *err)
{
    struct aclint *c = calloc(1, sizeof(*c));
    if (!c) {
        err_set(err, -ENOMEM, "aclint: out of memory");
        return NULL;
    }
    c->cpu = cpu;
    c->nharts = rv_cpu_nharts(cpu);
    if (c->nharts > RV_MAX_HARTS) {
        c->nharts = RV_MAX_HARTS;
    }
    if (bus_map(bus, base, ACLINT_SIZE, &aclint_ops, c, "clint", err) < 0) {
        free(c);
        return NULL;
    }
    return c;
}

void aclint_free(struct aclint *c)
{
    free(c);
}

void aclint_reset(struct aclint *c)
{
    /* As QEMU: mtime restarts at 0 (ACLINT spec: "cleared to zero on
     * reset"); mtimecmp, unspecified by the spec, is 0 as QEMU leaves it. */
    for (unsigned i = 0; i < c->nharts; i++) {
        struct rv_hart *h = rv_cpu_hart(c->cpu, i);
        c->msip[i] = 0;
        rv_hart_set_irq(h, RV_IRQ_M_SOFT, 0);
        rv_hart_set_mtimecmp(h, 0);
    }
    rv_cpu_set_time(c->cpu, 0);
}
