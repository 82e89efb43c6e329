/* SPDX-License-Identifier: MIT */
/*
 * Goldfish RTC device tests: time tracks host wall-clock time, TIME_LOW
 * latches TIME_HIGH, guest writes move the clock, the alarm fires through
 * the main loop's timers (armed by deferred calls) and drives the line as
 * pending && IRQ_ENABLED, clearing works, and hostile accesses are
 * harmless.
 */
#include <stdint.h>
#include <time.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/loop.h"
#include "harness.h"
#include "hw/rtc/goldfish_rtc.h"

#define BASE 0x101000ull

#define TIME_LOW        0x00
#define TIME_HIGH       0x04
#define ALARM_LOW       0x08
#define ALARM_HIGH      0x0c
#define IRQ_ENABLED     0x10
#define CLEAR_ALARM     0x14
#define ALARM_STATUS    0x18
#define CLEAR_INTERRUPT 0x1c

#define MS 1000000ull

static int irq_level;
static int irq_raises;
static struct bus *bus;
static struct goldfish_rtc *rtc;

static void record(void *opaque, unsigned n, int level)
{
    (void)opaque;
    (void)n;
    if (level && !irq_level) {
        irq_raises++;
    }
    irq_level = level;
}

static void setup(void)
{
    struct error err = { 0 };
    irq_level = 0;
    irq_raises = 0;
    bus = bus_new();
    rtc = goldfish_rtc_new(bus, BASE, (struct irq_line){ .set = record }, &err);
    CHECK(rtc != NULL);
}

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

static void run_loop_ms(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * MS);
    loop_run();
    loop_timer_free(t);
}

/* Run the loop until the line rises or max_ms passed (timing-tolerant:
 * a loaded CI machine may be slow, never fast). */
static void run_until_irq(unsigned max_ms)
{
    uint64_t end = loop_now_ns() + max_ms * MS;
    while (!irq_level && loop_now_ns() < end) {
        run_loop_ms(5);
    }
}

static void teardown(void)
{
    goldfish_rtc_free(rtc);
    run_loop_ms(1); /* let a deferred call that owns rtc finish freeing */
    bus_free(bus);
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

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rtc_time(void)
{
    uint64_t lo = rd(TIME_LOW);
    return lo | rd(TIME_HIGH) << 32;
}

TEST(time_follows_host)
{
    setup();
    uint64_t before = host_ns();
    uint64_t t = rtc_time();
    uint64_t after = host_ns();
    CHECK(t >= before && t <= after);
    /* A 64-bit read is split low-then-high by the bus: same result. */
    uint64_t v;
    CHECK(bus_read(bus, BASE + TIME_LOW, 8, &v));
    CHECK(v >= after && v <= host_ns());
    teardown();
}

TEST(time_low_latches_high)
{
    setup();
    /* Put the clock just below a 2^32 boundary, read LOW, wait until
     * the boundary passed, then HIGH must still match the LOW read. */
    uint64_t target = (5ull << 32) - 100 * MS;
    wr(TIME_HIGH, target >> 32);
    wr(TIME_LOW, (uint32_t)target);
    uint64_t lo = rd(TIME_LOW);
    struct timespec d = { 0, 250 * MS };
    nanosleep(&d, NULL);
    uint64_t hi = rd(TIME_HIGH);
    /* Normally LOW was read before the carry: HIGH must not show it.
     * (A machine stalled for 100 ms read LOW after it: then 5.) */
    CHECK_EQ(hi, lo >= 0x80000000u ? 4 : 5);
    /* A fresh read shows the carry. */
    CHECK_EQ(rtc_time() >> 32, 5);
    teardown();
}

TEST(guest_sets_time)
{
    setup();
    uint64_t want = 1000000000ull * 3600 * 24 * 365 * 10; /* ~1980 */
    wr(TIME_HIGH, want >> 32);
    wr(TIME_LOW, (uint32_t)want);
    uint64_t t = rtc_time();
    CHECK(t >= want && t < want + 1000 * MS);
    /* The offset survives a reset (battery-backed clock). */
    goldfish_rtc_reset(rtc);
    t = rtc_time();
    CHECK(t >= want && t < want + 1000 * MS);
    teardown();
}

TEST(alarm_fires_through_main_loop)
{
    setup();
    wr(IRQ_ENABLED, 1);
    CHECK_EQ(rd(IRQ_ENABLED), 1);
    uint64_t when = rtc_time() + 100 * MS;
    wr(ALARM_HIGH, when >> 32);
    wr(ALARM_LOW, (uint32_t)when);
    CHECK_EQ(rd(ALARM_STATUS), 1);
    CHECK_EQ(rd(ALARM_LOW), (uint32_t)when);
    CHECK_EQ(rd(ALARM_HIGH), when >> 32);
    CHECK_EQ(irq_level, 0);
    run_loop_ms(5);
    CHECK(irq_level == 0 || rtc_time() >= when); /* not early */
    run_until_irq(2000);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(irq_raises, 1);
    CHECK_EQ(rd(ALARM_STATUS), 0);
    CHECK(rtc_time() >= when);
    /* Pending stays until cleared; masking drops the line only. */
    wr(IRQ_ENABLED, 0);
    CHECK_EQ(irq_level, 0);
    wr(IRQ_ENABLED, 1);
    CHECK_EQ(irq_level, 1);
    wr(CLEAR_INTERRUPT, 1);
    CHECK_EQ(irq_level, 0);
    wr(IRQ_ENABLED, 1);
    CHECK_EQ(irq_level, 0);
    teardown();
}

TEST(alarm_in_past_fires_at_once)
{
    setup();
    wr(IRQ_ENABLED, 1);
    uint64_t when = rtc_time() - 1000 * MS;
    wr(ALARM_HIGH, when >> 32);
    wr(ALARM_LOW, (uint32_t)when);
    CHECK_EQ(irq_level, 1);
    CHECK_EQ(rd(ALARM_STATUS), 0);
    teardown();
}

TEST(alarm_pending_while_disabled)
{
    setup();
    uint64_t when = rtc_time() + 10 * MS;
    wr(ALARM_HIGH, when >> 32);
    wr(ALARM_LOW, (uint32_t)when);
    for (int i = 0; i < 400 && rd(ALARM_STATUS); i++) {
        run_loop_ms(5);
    }
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(rd(ALARM_STATUS), 0);
    wr(IRQ_ENABLED, 1);
    CHECK_EQ(irq_level, 1);
    teardown();
}

TEST(clear_alarm_cancels)
{
    setup();
    wr(IRQ_ENABLED, 1);
    uint64_t when = rtc_time() + 200 * MS;
    wr(ALARM_HIGH, when >> 32);
    wr(ALARM_LOW, (uint32_t)when);
    run_loop_ms(2); /* timer armed */
    wr(CLEAR_ALARM, 1);
    CHECK_EQ(rd(ALARM_STATUS), 0);
    run_loop_ms(300);
    CHECK_EQ(irq_level, 0);
    CHECK_EQ(irq_raises, 0);
    teardown();
}

TEST(rearm_moves_alarm)
{
    setup();
    wr(IRQ_ENABLED, 1);
    uint64_t now = rtc_time();
    wr(ALARM_HIGH, (now + 10 * MS) >> 32);
    wr(ALARM_LOW, (uint32_t)(now + 10 * MS));
    /* Re-armed later before the loop even ran: the later time wins. */
    uint64_t later = now + 300 * MS;
    wr(ALARM_HIGH, later >> 32);
    wr(ALARM_LOW, (uint32_t)later);
    run_loop_ms(40);
    CHECK(irq_level == 0 || rtc_time() >= later);
    run_until_irq(2000);
    CHECK_EQ(irq_level, 1);
    CHECK(rtc_time() >= later);
    CHECK_EQ(irq_raises, 1);
    teardown();
}

TEST(clock_moved_back_while_armed)
{
    setup();
    wr(IRQ_ENABLED, 1);
    uint64_t now = rtc_time();
    uint64_t when = now + 20 * MS;
    wr(ALARM_HIGH, when >> 32);
    wr(ALARM_LOW, (uint32_t)when);
    run_loop_ms(2);
    /* The guest moves its clock back 300 ms: the timer armed for the old
     * deadline must not raise the alarm early. */
    uint64_t back = rtc_time() - 300 * MS;
    wr(TIME_HIGH, back >> 32);
    wr(TIME_LOW, (uint32_t)back);
    run_loop_ms(60);
    CHECK(irq_level == 0 || rtc_time() >= when);
    run_until_irq(2000);
    CHECK_EQ(irq_level, 1);
    CHECK(rtc_time() >= when);
    teardown();
}

TEST(far_alarm_and_free_while_armed)
{
    setup();
    wr(ALARM_HIGH, 0xffffffff);
    wr(ALARM_LOW, 0xffffffff);
    CHECK_EQ(rd(ALARM_STATUS), 1);
    run_loop_ms(5);
    CHECK_EQ(irq_level, 0);
    /* Re-arm and free before the deferred call ran: freed by it. */
    wr(ALARM_LOW, 0xfffffff0);
    teardown();
}

TEST(hostile_accesses)
{
    setup();
    uint64_t v;
    for (uint64_t off = 0x20; off < GOLDFISH_RTC_SIZE; off += 4) {
        CHECK(bus_write(bus, BASE + off, 4, ~0ull));
        CHECK_EQ(rd(off), 0);
    }
    wr(ALARM_STATUS, 1); /* read-only */
    CHECK_EQ(rd(ALARM_STATUS), 0);
    wr(IRQ_ENABLED, 0xfffffffe);
    CHECK_EQ(rd(IRQ_ENABLED), 0);
    CHECK(bus_read(bus, BASE + 0xffe, 4, &v));
    CHECK(bus_write(bus, BASE + 0xffe, 8, ~0ull));
    CHECK(bus_write(bus, BASE + IRQ_ENABLED + 1, 1, 0xff));
    CHECK_EQ(rd(IRQ_ENABLED), 0);
    CHECK_EQ(rd(ALARM_STATUS), 0);
    CHECK_EQ(irq_level, 0);
    teardown();
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    RUN(time_follows_host);
    RUN(time_low_latches_high);
    RUN(guest_sets_time);
    RUN(alarm_fires_through_main_loop);
    RUN(alarm_in_past_fires_at_once);
    RUN(alarm_pending_while_disabled);
    RUN(clear_alarm_cancels);
    RUN(rearm_moves_alarm);
    RUN(clock_moved_back_while_armed);
    RUN(far_alarm_and_free_while_armed);
    RUN(hostile_accesses);
    HARNESS_END();
}
