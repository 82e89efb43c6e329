/* SPDX-License-Identifier: MIT */
/*
 * CLINT/ACLINT device tests against the CPU's public API (rv.h): MSIP
 * holds bit 0 per hart, mtimecmp and mtime take 8-byte and independent
 * 4-byte accesses and land in the CPU (rv_hart_get_mtimecmp,
 * rv_cpu_time), reset follows QEMU, and accesses for harts that do not
 * exist change nothing. The CPU is created but never run.
 */
#include <stdint.h>
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "cpu/riscv/rv.h"
#include "harness.h"
#include "hw/irqchip/aclint.h"
#include "mem/mem.h"

#define BASE    0x2000000ull
#define MSIP(h) ((uint64_t)(h)*4)
#define CMP(h)  (0x4000 + (uint64_t)(h)*8)
#define MTIME   0xbff8
#define NHARTS  2
#define ONE_SEC RV_TIMEBASE_HZ

static struct mem_map mm;
static struct bus *bus;
static struct rv_cpu *cpu;
static struct aclint *clint;

static void setup(void)
{
    struct error err = { 0 };
    memset(&mm, 0, sizeof(mm));
    CHECK_EQ(mem_add_block(&mm, 0x80000000ull, 1 << 20, false, "ram", &err), 0);
    bus = bus_new();
    struct rv_cpu_config cfg = {
        .nharts = NHARTS,
        .reset_pc = 0x80000000ull,
        .mem = &mm,
        .bus = bus,
        .satp_modes = 1u << 8,
    };
    cpu = rv_cpu_new(&cfg, &err);
    CHECK(cpu != NULL);
    clint = aclint_new(bus, BASE, cpu, &err);
    CHECK(clint != NULL);
}

static void teardown(void)
{
    aclint_free(clint);
    rv_cpu_free(cpu);
    bus_free(bus);
    mem_free(&mm);
}

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0xdead;
    CHECK(bus_read(bus, BASE + off, size, &v));
    return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
    CHECK(bus_write(bus, BASE + off, size, v));
}

static uint64_t cmp(unsigned h)
{
    return rv_hart_get_mtimecmp(rv_cpu_hart(cpu, h));
}

TEST(msip_bit0_only)
{
    setup();
    CHECK_EQ(rd(MSIP(0), 4), 0);
    wr(MSIP(0), 4, 1);
    CHECK_EQ(rd(MSIP(0), 4), 1);
    CHECK_EQ(rd(MSIP(1), 4), 0);
    wr(MSIP(1), 4, 0xffffffff);
    CHECK_EQ(rd(MSIP(1), 4), 1);
    wr(MSIP(1), 4, 2);
    CHECK_EQ(rd(MSIP(1), 4), 0);
    /* One 8-byte store covers harts 0 and 1. */
    wr(MSIP(0), 8, 0x0000000100000000ull);
    CHECK_EQ(rd(MSIP(0), 4), 0);
    CHECK_EQ(rd(MSIP(1), 4), 1);
    CHECK_EQ(rd(MSIP(0), 8), 0x0000000100000000ull);
    /* A byte store reaches bit 0 through the bus's read-modify-write. */
    wr(MSIP(0), 1, 1);
    CHECK_EQ(rd(MSIP(0), 4), 1);
    teardown();
}

TEST(mtimecmp_full_and_halves)
{
    setup();
    wr(CMP(0), 8, 0x1122334455667788ull);
    CHECK_EQ(cmp(0), 0x1122334455667788ull);
    CHECK_EQ(rd(CMP(0), 8), 0x1122334455667788ull);
    CHECK_EQ(rd(CMP(0), 4), 0x55667788);
    CHECK_EQ(rd(CMP(0) + 4, 4), 0x11223344);
    wr(CMP(0), 4, 0xaabbccdd);
    CHECK_EQ(cmp(0), 0x11223344aabbccddull);
    wr(CMP(0) + 4, 4, 0xffffffff);
    CHECK_EQ(cmp(0), 0xffffffffaabbccddull);
    wr(CMP(1), 8, 42);
    CHECK_EQ(cmp(1), 42);
    CHECK_EQ(cmp(0), 0xffffffffaabbccddull);
    teardown();
}

TEST(mtime_read_write)
{
    setup();
    wr(MTIME, 8, 0x100000000ull);
    uint64_t t = rd(MTIME, 8);
    CHECK(t >= 0x100000000ull && t < 0x100000000ull + ONE_SEC);
    CHECK_EQ(rv_cpu_time(cpu) >> 32, 1);
    /* The high half alone. */
    wr(MTIME + 4, 4, 7);
    CHECK_EQ(rd(MTIME + 4, 4), 7);
    /* The low half alone keeps the high half. */
    wr(MTIME, 4, 0);
    t = rd(MTIME, 8);
    CHECK(t >= 0x700000000ull && t < 0x700000000ull + ONE_SEC);
    teardown();
}

TEST(reset_follows_qemu)
{
    setup();
    wr(MSIP(1), 4, 1);
    wr(CMP(0), 8, 1234);
    wr(CMP(1), 8, 5678);
    wr(MTIME, 8, 1ull << 40);
    aclint_reset(clint);
    CHECK_EQ(rd(MSIP(1), 4), 0);
    CHECK_EQ(cmp(0), 0);
    CHECK_EQ(cmp(1), 0);
    CHECK(rd(MTIME, 8) < ONE_SEC);
    teardown();
}

TEST(missing_harts_and_hostile_offsets)
{
    setup();
    wr(CMP(0), 8, 100);
    wr(CMP(1), 8, 200);
    wr(MSIP(NHARTS), 4, 1);
    wr(MSIP(4094), 4, 1);
    CHECK_EQ(rd(MSIP(NHARTS), 4), 0);
    CHECK_EQ(rd(MSIP(4094), 4), 0);
    wr(CMP(NHARTS), 8, 1);
    wr(CMP(NHARTS) + 4, 4, 1);
    wr(CMP(4094), 8, 1);
    CHECK_EQ(rd(CMP(NHARTS), 8), 0);
    CHECK_EQ(rd(CMP(4094), 4), 0);
    CHECK_EQ(rd(MSIP(0), 4), 0);
    CHECK_EQ(rd(MSIP(1), 4), 0);
    CHECK_EQ(cmp(0), 100);
    CHECK_EQ(cmp(1), 200);
    /* Odd sizes and alignments: a 2-byte store to mtimecmp's middle is a
     * read-modify-write of the containing word, nothing else. */
    wr(CMP(0) + 2, 2, 0xabcd);
    CHECK_EQ(cmp(0), 0xabcd0064ull);
    wr(CMP(1) + 3, 8, 0); /* unaligned: bytes 3..7 of cmp(1), 0..2 of 2 */
    CHECK_EQ(cmp(1), 200);
    CHECK_EQ(cmp(0), 0xabcd0064ull);
    uint64_t v;
    /* The region's last bytes and past it. */
    CHECK(bus_read(bus, BASE + ACLINT_SIZE - 4, 8, &v));
    CHECK(bus_write(bus, BASE + ACLINT_SIZE - 4, 8, ~0ull));
    CHECK(!bus_write(bus, BASE + ACLINT_SIZE, 4, 1));
    CHECK_EQ(rd(MSIP(0), 4), 0);
    teardown();
}

int main(void)
{
    RUN(msip_bit0_only);
    RUN(mtimecmp_full_and_halves);
    RUN(mtime_read_write);
    RUN(reset_follows_qemu);
    RUN(missing_harts_and_hostile_offsets);
    HARNESS_END();
}
