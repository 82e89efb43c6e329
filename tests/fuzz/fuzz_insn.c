/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the RV64GC CPU emulator (src/cpu/riscv): random
 * instruction words run on a sandboxed hart. The input's first
 * FUZZ_HDR bytes seed the starting state (privilege, a few CSRs written
 * through the CSR code so they are legalised as a guest's writes would
 * be, integer registers, mtimecmp and pending interrupt lines); the rest
 * is copied to the start of RAM and executed, and also serves as data
 * and page tables. The run is bounded by an instruction budget and a
 * bound on slices, so a guest spinning in traps cannot hang the target.
 *
 * The machine: 64 KiB of RAM at 0x80000000 (reset pc), 4 KiB of ROM at
 * 0x1000, and one MMIO region at 0x10000000 that reads a constant; every
 * other physical address is unclaimed (bus reads zero, fetches fault).
 * Checks: no crash, no sanitizer report, no hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "cpu/riscv/hart.h"
#include "mem/mem.h"

#define RAM_BASE  0x80000000ull
#define RAM_SIZE  0x10000ull
#define ROM_BASE  0x1000ull
#define MMIO_BASE 0x10000000ull
#define FUZZ_HDR  64
#define BUDGET    4096 /* instructions per slice */
#define SLICES    8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    (void)size;
    return 0x0123456789abcdefull ^ off;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    (void)opaque;
    (void)off;
    (void)val;
    (void)size;
}

static const struct bus_ops mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
    .min_size = 1,
    .max_size = 8,
};

static struct mem_map mem;
static struct bus *bus;
static struct rv_cpu *cpu;

static void machine_init(void)
{
    struct error err = { 0 };
    struct rv_cpu_config cfg = { 0 };

    if (mem_add_block(&mem, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0 ||
        mem_add_block(&mem, ROM_BASE, 0x1000, true, "rom", &err) < 0) {
        __builtin_trap();
    }
    bus = bus_new();
    if (!bus ||
        bus_map(bus, MMIO_BASE, 0x1000, &mmio_ops, NULL, "mmio", &err) < 0) {
        __builtin_trap();
    }
    cfg.nharts = 1;
    cfg.reset_pc = RAM_BASE;
    cfg.mem = &mem;
    cfg.bus = bus;
    cfg.satp_modes = (1u << 8) | (1u << 9) | (1u << 10);
    cpu = rv_cpu_new(&cfg, &err);
    if (!cpu) {
        __builtin_trap();
    }
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Write a CSR as M-mode software would; illegal writes are ignored. */
static void csr_set(struct rv_hart *h, unsigned csr, uint64_t val)
{
    uint64_t old;
    rv_csr_op(h, csr, 1, val, true, false, &old, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t hdr[FUZZ_HDR] = { 0 };
    struct rv_hart *h;
    size_t code;

    if (!cpu) {
        machine_init();
    }
    memcpy(hdr, data, size < FUZZ_HDR ? size : FUZZ_HDR);
    code = size > FUZZ_HDR ? size - FUZZ_HDR : 0;
    if (code > RAM_SIZE) {
        code = RAM_SIZE;
    }

    memset(mem_ptr(&mem, RAM_BASE, RAM_SIZE, true), 0, RAM_SIZE);
    if (code) {
        mem_load(&mem, RAM_BASE, data + FUZZ_HDR, code);
    }
    rv_cpu_reset(cpu);
    h = rv_cpu_hart(cpu, 0);

    /*
     * Header: [0] privilege and flags, [1] mtvec/stvec offsets, [2..3]
     * satp root page (within RAM) and mode, [4..7] x-register pattern,
     * [8..15] mstatus, [16..23] medeleg/mideleg, [24..31] mie and mip,
     * [32..39] menvcfg and frm, [40..47] mtimecmp, [48..55] pmp,
     * [56..63] register seeds.
     */
    csr_set(h, 0x305,
            RAM_BASE + ((uint64_t)(hdr[1] & 0x0f) << 8) +
                ((hdr[0] >> 4) & 1)); /* mtvec, maybe vectored */
    csr_set(h, 0x105,
            RAM_BASE + ((uint64_t)(hdr[1] >> 4) << 8) +
                ((hdr[0] >> 5) & 1));         /* stvec */
    csr_set(h, 0x300, get64(hdr + 8));        /* mstatus */
    csr_set(h, 0x302, get64(hdr + 16));       /* medeleg */
    csr_set(h, 0x303, get64(hdr + 16) >> 32); /* mideleg */
    csr_set(h, 0x304, get64(hdr + 24));       /* mie */
    csr_set(h, 0x344, get64(hdr + 24) >> 32); /* mip */
    csr_set(h, 0x30a, get64(hdr + 32));       /* menvcfg */
    csr_set(h, 0x002, hdr[39]);               /* frm */
    csr_set(h, 0x306, hdr[38]);               /* mcounteren */
    csr_set(h, 0x106, hdr[37]);               /* scounteren */
    csr_set(h, 0x10a, hdr[36]);               /* senvcfg */
    if (hdr[0] & 0x40) {
        /* PMP: entry 0 from the header, entry 1 grants everything. */
        csr_set(h, 0x3b0, (RAM_BASE >> 2) + (get64(hdr + 48) & 0x3fff));
        csr_set(h, 0x3b1, (1ull << 54) - 1);
        csr_set(h, 0x3a0, (hdr[55] & 0x9f) | (0x1full << 8));
    }
    if (hdr[0] & 0x80) {
        unsigned mode = 8 + (hdr[3] % 3);
        uint64_t root = (RAM_BASE >> 12) + (hdr[2] & 0x0f);
        csr_set(h, 0x180, ((uint64_t)mode << 60) | root);
    }
    rv_hart_set_mtimecmp(h, get64(hdr + 40) & 0xffff);
    for (unsigned i = 0; i < 3; i++) {
        static const unsigned bitno[3] = { RV_IRQ_M_SOFT, RV_IRQ_M_EXT,
                                           RV_IRQ_S_EXT };
        rv_hart_set_irq(h, bitno[i], (hdr[3] >> (4 + i)) & 1);
    }
    for (unsigned i = 1; i < 32; i++) {
        /* Some registers point into RAM, the others are patterns. */
        uint64_t seed = get64(hdr + 56) * (0x9e3779b97f4a7c15ull * i);
        h->x[i] = (i & 3) == 0   ? RAM_BASE + (seed & (RAM_SIZE - 8))
                  : (i & 3) == 1 ? (uint64_t)hdr[4 + (i & 3)] << (i * 2)
                                 : seed;
        h->f[i] = seed ^ ((uint64_t)hdr[4] << 56);
    }
    /* A refused setup write (e.g. frm with FS off) trapped: start over at
     * the reset pc all the same. */
    h->pc = RAM_BASE;
    rv_set_priv(h, (hdr[0] & 3) == 2 ? RV_PRIV_M : (hdr[0] & 3));

    for (unsigned s = 0; s < SLICES; s++) {
        atomic_store(&cpu->kicked, false);
        rv_update_timer_irqs(h, rv_time_now(cpu));
        h->wfi = false; /* a WFI just ends its slice here */
        rv_exec_slice(h, BUDGET);
    }
    return 0;
}
