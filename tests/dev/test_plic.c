/* SPDX-License-Identifier: MIT */
/*
 * PLIC device tests: a bus with the PLIC at QEMU virt's address, four
 * contexts whose output levels are recorded, sources driven through
 * plic_source() lines. Checks claim order (priority, then lowest id),
 * thresholds, per-context enables, level-triggered gateways across
 * claim/complete, and that hostile register accesses change nothing.
 */
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "core/error.h"
#include "harness.h"
#include "hw/irqchip/plic.h"

#define BASE 0xc000000ull
#define NCTX 4
#define NSRC PLIC_NUM_SOURCES

static int ctx_level[NCTX];
static int ctx_changes[NCTX];
static struct bus *bus;
static struct plic *plic;

static void record(void *opaque, unsigned n, int level)
{
    (void)opaque;
    if (n < NCTX) {
        ctx_level[n] = level;
        ctx_changes[n]++;
    }
}

static void setup(void)
{
    struct irq_line lines[NCTX];
    struct error err = { 0 };

    for (unsigned i = 0; i < NCTX; i++) {
        lines[i] = (struct irq_line){ .set = record, .n = i };
        ctx_level[i] = 0;
        ctx_changes[i] = 0;
    }
    bus = bus_new();
    plic = plic_new(bus, BASE, NSRC, NCTX, lines, &err);
    CHECK(plic != NULL);
    CHECK(!err_is_set(&err));
}

static void teardown(void)
{
    plic_free(plic);
    bus_free(bus);
    plic = NULL;
    bus = NULL;
}

static uint64_t rd(uint64_t off)
{
    uint64_t v = 0xdead;
    CHECK(bus_read(bus, BASE + off, 4, &v));
    return v;
}

static void wr(uint64_t off, uint64_t v)
{
    CHECK(bus_write(bus, BASE + off, 4, v));
}

static void src_set(unsigned src, int level)
{
    struct irq_line l = plic_source(plic, src);
    dev_lock();
    irq_set(&l, level);
    dev_unlock();
}

#define PRIO(s)      ((uint64_t)(s)*4)
#define PENDING(w)   (0x1000 + (uint64_t)(w)*4)
#define ENABLE(c, w) (0x2000 + 0x80 * (uint64_t)(c) + (uint64_t)(w)*4)
#define THRESH(c)    (0x200000 + 0x1000 * (uint64_t)(c))
#define CLAIM(c)     (THRESH(c) + 4)

static void enable(unsigned ctx, unsigned src)
{
    uint64_t off = ENABLE(ctx, src / 32);
    wr(off, rd(off) | 1u << (src % 32));
}

TEST(claim_order_priority_then_lowest_id)
{
    setup();
    wr(PRIO(1), 1);
    wr(PRIO(2), 5);
    wr(PRIO(3), 5);
    wr(PRIO(40), 7);
    enable(0, 1);
    enable(0, 2);
    enable(0, 3);
    enable(0, 40);
    CHECK_EQ(ctx_level[0], 0);

    src_set(1, 1);
    src_set(2, 1);
    src_set(3, 1);
    src_set(40, 1);
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(rd(PENDING(0)), 0xe);
    CHECK_EQ(rd(PENDING(1)), 1u << 8);

    CHECK_EQ(rd(CLAIM(0)), 40);
    CHECK_EQ(rd(CLAIM(0)), 2);
    CHECK_EQ(rd(CLAIM(0)), 3);
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(rd(CLAIM(0)), 1);
    /* Everything claimed: output drops, pending bits are clear. */
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    CHECK_EQ(rd(PENDING(0)), 0);
    CHECK_EQ(rd(PENDING(1)), 0);

    /* Level-triggered: completing a still-asserted source re-pends it. */
    wr(CLAIM(0), 2);
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(rd(PENDING(0)), 1u << 2);
    CHECK_EQ(rd(CLAIM(0)), 2);

    /* A source that deasserted before completion does not come back. */
    src_set(3, 0);
    wr(CLAIM(0), 3);
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    teardown();
}

TEST(threshold_masks)
{
    setup();
    wr(PRIO(5), 3);
    enable(0, 5);
    wr(THRESH(0), 3);
    CHECK_EQ(rd(THRESH(0)), 3);
    src_set(5, 1);
    /* Priority must exceed the threshold, not equal it. */
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    CHECK_EQ(rd(PENDING(0)), 1u << 5); /* still pending: nothing claimed */
    wr(THRESH(0), 2);
    CHECK_EQ(ctx_level[0], 1);
    wr(THRESH(0), 7);
    CHECK_EQ(ctx_level[0], 0);
    wr(THRESH(0), 0);
    CHECK_EQ(rd(CLAIM(0)), 5);
    CHECK_EQ(ctx_level[0], 0);
    /* Threshold is 3 bits wide (QEMU virt). */
    wr(THRESH(0), 0xffffffff);
    CHECK_EQ(rd(THRESH(0)), 7);
    teardown();
}

TEST(priority_zero_never_interrupts)
{
    setup();
    enable(0, 9);
    src_set(9, 1);
    CHECK_EQ(rd(PENDING(0)), 1u << 9);
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    CHECK_EQ(rd(PENDING(0)), 1u << 9);
    /* Raising the priority lets it through. */
    wr(PRIO(9), 1);
    CHECK_EQ(ctx_level[0], 1);
    /* Dropping it back to 0 masks it again. */
    wr(PRIO(9), 0);
    CHECK_EQ(ctx_level[0], 0);
    teardown();
}

TEST(priority_register_width)
{
    setup();
    wr(PRIO(4), 0xffffffff);
    CHECK_EQ(rd(PRIO(4)), 7);
    wr(PRIO(4), 0x10);
    CHECK_EQ(rd(PRIO(4)), 0);
    /* Source 0 does not exist: its priority stays 0. */
    wr(PRIO(0), 5);
    CHECK_EQ(rd(PRIO(0)), 0);
    teardown();
}

TEST(enables_are_per_context)
{
    setup();
    wr(PRIO(7), 1);
    wr(PRIO(33), 1);
    enable(1, 7);
    enable(2, 33);
    src_set(7, 1);
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(ctx_level[1], 1);
    CHECK_EQ(ctx_level[2], 0);
    CHECK_EQ(ctx_level[3], 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    CHECK_EQ(rd(CLAIM(2)), 0);
    src_set(33, 1);
    CHECK_EQ(ctx_level[2], 1);
    CHECK_EQ(rd(ENABLE(1, 0)), 1u << 7);
    CHECK_EQ(rd(ENABLE(2, 1)), 1u << 1);
    CHECK_EQ(rd(CLAIM(1)), 7);
    CHECK_EQ(ctx_level[1], 0);
    CHECK_EQ(ctx_level[2], 1);
    CHECK_EQ(rd(CLAIM(2)), 33);
    CHECK_EQ(ctx_level[2], 0);

    /* A source enabled in two contexts is claimed by one only. */
    enable(3, 7);
    enable(1, 7);
    wr(CLAIM(1), 7);
    CHECK_EQ(ctx_level[1], 1);
    CHECK_EQ(ctx_level[3], 1);
    CHECK_EQ(rd(CLAIM(3)), 7);
    CHECK_EQ(ctx_level[1], 0);
    CHECK_EQ(ctx_level[3], 0);
    CHECK_EQ(rd(CLAIM(1)), 0);

    /* Disabling withdraws the output without touching pending. */
    wr(CLAIM(3), 7);
    CHECK_EQ(ctx_level[1], 1);
    wr(ENABLE(1, 0), 0);
    CHECK_EQ(ctx_level[1], 0);
    CHECK_EQ(rd(PENDING(0)), 1u << 7);
    teardown();
}

TEST(source_zero_and_enable_width)
{
    setup();
    wr(ENABLE(0, 0), 0xffffffff);
    CHECK_EQ(rd(ENABLE(0, 0)), 0xfffffffe);
    /* 96 sources = 3 words; the 4th word does not exist. */
    wr(ENABLE(0, 3), 0xffffffff);
    CHECK_EQ(rd(ENABLE(0, 3)), 0);
    teardown();
}

TEST(level_drop_withdraws_request)
{
    setup();
    wr(PRIO(12), 2);
    enable(0, 12);
    src_set(12, 1);
    CHECK_EQ(ctx_level[0], 1);
    src_set(12, 0);
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(PENDING(0)), 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    teardown();
}

TEST(bogus_completions_and_claims)
{
    setup();
    wr(PRIO(6), 4);
    enable(0, 6);
    src_set(6, 1);
    CHECK_EQ(rd(CLAIM(0)), 6);
    CHECK_EQ(ctx_level[0], 0);

    /* Completions that must not release source 6's gateway. */
    wr(CLAIM(0), 0);
    wr(CLAIM(0), NSRC);
    wr(CLAIM(0), 0xffffffff);
    wr(CLAIM(0), 5); /* not claimed */
    wr(CLAIM(1), 6); /* context 1 has 6 disabled: ignored */
    CHECK_EQ(ctx_level[0], 0);
    CHECK_EQ(rd(PENDING(0)), 0);
    CHECK_EQ(rd(CLAIM(0)), 0);
    CHECK_EQ(rd(CLAIM(1)), 0);
    /* Claims with nothing deliverable return 0 and change nothing. */
    CHECK_EQ(rd(CLAIM(3)), 0);

    /* 64-bit write: the bus splits it into completion and the reserved
     * word after it. */
    CHECK(bus_write(bus, BASE + CLAIM(0), 8, 6));
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(rd(CLAIM(0)), 6);
    /* Completing twice is harmless. */
    wr(CLAIM(0), 6);
    wr(CLAIM(0), 6);
    CHECK_EQ(rd(CLAIM(0)), 6);
    teardown();
}

TEST(hostile_offsets_and_sizes)
{
    setup();
    wr(PRIO(6), 4);
    enable(0, 6);
    src_set(6, 1);
    CHECK_EQ(ctx_level[0], 1);
    int changes = ctx_changes[0];
    uint64_t v;

    /* Narrow accesses are refused: above all a byte read of claim must
     * not claim, and a byte write must not claim-then-complete. */
    CHECK(bus_read(bus, BASE + CLAIM(0), 1, &v));
    CHECK_EQ(v, 0);
    CHECK(bus_read(bus, BASE + CLAIM(0) + 2, 2, &v));
    CHECK_EQ(v, 0);
    CHECK(bus_write(bus, BASE + CLAIM(0), 1, 6));
    CHECK(bus_write(bus, BASE + CLAIM(0) + 1, 1, 0));
    CHECK(bus_write(bus, BASE + PRIO(6), 2, 0));
    CHECK(bus_write(bus, BASE + THRESH(0) + 3, 1, 7));
    CHECK(bus_write(bus, BASE + PRIO(6) + 1, 4, 0)); /* unaligned */
    CHECK_EQ(rd(PRIO(6)), 4);
    CHECK_EQ(rd(THRESH(0)), 0);
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(rd(PENDING(0)), 1u << 6);

    /* Out-of-range sources, contexts and reserved registers. */
    wr(PRIO(NSRC), 7);
    wr(PRIO(1023), 7);
    CHECK_EQ(rd(PRIO(NSRC)), 0);
    CHECK_EQ(rd(PRIO(1023)), 0);
    wr(PENDING(0), 0);
    wr(PENDING(1), 0xffffffff);
    CHECK_EQ(rd(PENDING(0)), 1u << 6);
    CHECK_EQ(rd(PENDING(1)), 0);
    CHECK_EQ(rd(PENDING(31)), 0);
    wr(ENABLE(NCTX, 0), 0xffffffff);
    CHECK_EQ(rd(ENABLE(NCTX, 0)), 0);
    wr(ENABLE(15871, 31), 0xffffffff);
    wr(0x1f0000, 1);
    wr(0x1ffffc, 1);
    CHECK_EQ(rd(0x1ffffc), 0);
    /* Contexts past ncontexts are past the mapped region. */
    CHECK(!bus_write(bus, BASE + THRESH(NCTX), 4, 7));
    CHECK(!bus_read(bus, BASE + CLAIM(NCTX), 4, &v));
    wr(THRESH(0) + 8, 7);
    wr(THRESH(0) + 0xffc, 7);
    CHECK_EQ(rd(THRESH(0) + 8), 0);
    CHECK_EQ(rd(THRESH(0)), 0);
    /* Past the mapped region: the bus answers, nothing reaches us. */
    CHECK(!bus_write(bus, BASE + PLIC_SIZE(NCTX), 4, 1));
    CHECK(bus_read(bus, BASE + PLIC_SIZE(NCTX) - 4, 4, &v));
    CHECK_EQ(v, 0);

    CHECK_EQ(ctx_changes[0], changes);
    CHECK_EQ(ctx_level[0], 1);
    CHECK_EQ(ctx_level[1] | ctx_level[2] | ctx_level[3], 0);
    CHECK_EQ(rd(CLAIM(0)), 6);
    teardown();
}

TEST(reset_clears_registers_and_outputs)
{
    setup();
    wr(PRIO(8), 3);
    wr(THRESH(1), 1);
    enable(1, 8);
    src_set(8, 1);
    CHECK_EQ(ctx_level[1], 1);
    CHECK_EQ(rd(CLAIM(1)), 8);
    dev_lock();
    plic_reset(plic);
    dev_unlock();
    CHECK_EQ(ctx_level[1], 0);
    CHECK_EQ(rd(PRIO(8)), 0);
    CHECK_EQ(rd(THRESH(1)), 0);
    CHECK_EQ(rd(ENABLE(1, 0)), 0);
    /* The device still drives its line, so the gateway restarts pending. */
    CHECK_EQ(rd(PENDING(0)), 1u << 8);
    wr(PRIO(8), 1);
    enable(1, 8);
    CHECK_EQ(ctx_level[1], 1);
    CHECK_EQ(rd(CLAIM(1)), 8);
    teardown();
}

TEST(bad_parameters)
{
    struct error err = { 0 };
    struct bus *b = bus_new();
    CHECK(plic_new(b, BASE, 1, 1, NULL, &err) == NULL);
    CHECK(err_is_set(&err));
    err = (struct error){ 0 };
    CHECK(plic_new(b, BASE, 2000, 1, NULL, &err) == NULL);
    CHECK(err_is_set(&err));
    err = (struct error){ 0 };
    CHECK(plic_new(b, BASE, 32, 0, NULL, &err) == NULL);
    CHECK(err_is_set(&err));
    /* A NULL ctx_out is allowed: lines that go nowhere. */
    err = (struct error){ 0 };
    struct plic *p = plic_new(b, BASE, 32, 2, NULL, &err);
    CHECK(p != NULL);
    /* Overlapping map fails cleanly. */
    CHECK(plic_new(b, BASE + 0x1000, 32, 2, NULL, &err) == NULL);
    CHECK(err_is_set(&err));
    plic_free(p);
    bus_free(b);
}

int main(void)
{
    RUN(claim_order_priority_then_lowest_id);
    RUN(threshold_masks);
    RUN(priority_zero_never_interrupts);
    RUN(priority_register_width);
    RUN(enables_are_per_context);
    RUN(source_zero_and_enable_width);
    RUN(level_drop_withdraws_request);
    RUN(bogus_completions_and_claims);
    RUN(hostile_offsets_and_sizes);
    RUN(reset_clears_registers_and_outputs);
    RUN(bad_parameters);
    HARNESS_END();
}
