/* SPDX-License-Identifier: MIT */
/*
 * The Goldfish RTC (Android emulator "goldfish" virtual hardware spec,
 * GOLDFISH-VIRTUAL-HARDWARE.TXT "goldfish-rtc", register set as QEMU's
 * hw/rtc/goldfish_rtc.c): nanoseconds of host CLOCK_REALTIME plus an
 * offset the guest moves by writing TIME_LOW/TIME_HIGH; reading TIME_LOW
 * latches the high half for the following TIME_HIGH read. Writing
 * ALARM_LOW arms the one alarm; when it expires the interrupt becomes
 * pending and the line follows pending && IRQ_ENABLED. Registers run on
 * the vCPU thread but loop timers are main-loop-only, so the alarm timer
 * is created, armed and cancelled by a deferred call (loop_call) that
 * applies the state the registers left under the device lock. Not here:
 * QEMU's migration of the offset, the "time jumps" of host clock changes
 * (an alarm already armed keeps its monotonic deadline and is re-checked
 * against the RTC's time when it fires).
 */
#include "hw/rtc/goldfish_rtc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"

#define RTC_TIME_LOW        0x00
#define RTC_TIME_HIGH       0x04
#define RTC_ALARM_LOW       0x08
#define RTC_ALARM_HIGH      0x0c
#define RTC_IRQ_ENABLED     0x10
#define RTC_CLEAR_ALARM     0x14
#define RTC_ALARM_STATUS    0x18
#define RTC_CLEAR_INTERRUPT 0x1c

struct goldfish_rtc {
    struct irq_line irq;
    uint64_t offset; /* added (mod 2^64) to host realtime ns */
    uint64_t alarm_next;
    uint32_t time_high; /* latched by reading TIME_LOW */
    bool irq_enabled;
    bool irq_pending;
    bool alarm_running;
    int irq_level;

    /* Main-loop side: the timer, and what the registers want of it. */
    struct loop_timer *timer; /* touched on the main-loop thread only */
    uint64_t deadline_mono;   /* loop_now_ns() time to fire */
    bool sync_queued;         /* a loop_call to apply state is pending */
    bool dying;               /* freed by the queued call */
};

static uint64_t rtc_host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rtc_now(const struct goldfish_rtc *r)
{
    return rtc_host_ns() + r->offset;
}

static void rtc_update_irq(struct goldfish_rtc *r)
{
    int lvl = r->irq_pending && r->irq_enabled;
    if (lvl != r->irq_level) {
        r->irq_level = lvl;
        irq_set(&r->irq, lvl);
    }
}

static void rtc_timer_fire(void *opaque);

/* Main-loop thread: make the timer match alarm_running/deadline_mono. */
static void rtc_sync(void *opaque)
{
    struct goldfish_rtc *r = opaque;

    dev_lock();
    r->sync_queued = false;
    if (r->dying) {
        dev_unlock();
        if (r->timer) {
            loop_timer_free(r->timer);
        }
        free(r);
        return;
    }
    if (!r->timer && r->alarm_running) {
        r->timer = loop_timer_new(rtc_timer_fire, r);
    }
    if (r->timer) {
        if (r->alarm_running) {
            loop_timer_arm(r->timer, r->deadline_mono);
        } else {
            loop_timer_cancel(r->timer);
        }
    }
    dev_unlock();
}

/* Device lock held. */
static void rtc_schedule_sync(struct goldfish_rtc *r)
{
    if (!r->sync_queued) {
        r->sync_queued = true;
        loop_call(rtc_sync, r);
    }
}

static void rtc_raise_alarm(struct goldfish_rtc *r)
{
    r->alarm_running = false;
    r->irq_pending = true;
    rtc_update_irq(r);
}

/* Device lock held. */
static void rtc_set_alarm(struct goldfish_rtc *r)
{
    uint64_t now = rtc_now(r);

    if (r->alarm_next <= now) {
        bool was = r->alarm_running;
        rtc_raise_alarm(r);
        if (was) {
            rtc_schedule_sync(r);
        }
        return;
    }
    r->alarm_running = true;
    uint64_t delta = r->alarm_next - now;
    uint64_t mono = loop_now_ns();
    /* A guest alarm centuries away must not wrap into the past. */
    r->deadline_mono = delta > UINT64_MAX - mono ? UINT64_MAX : mono + delta;
    rtc_schedule_sync(r);
}

static void rtc_clear_alarm(struct goldfish_rtc *r)
{
    if (r->alarm_running) {
        r->alarm_running = false;
        rtc_schedule_sync(r);
    }
}

/* Main-loop thread, timer expiry. */
static void rtc_timer_fire(void *opaque)
{
    struct goldfish_rtc *r = opaque;

    dev_lock();
    if (r->alarm_running && !r->dying) {
        /* The guest may have moved the clock since arming: fire only
         * once the RTC's own time has reached the alarm. */
        uint64_t now = rtc_now(r);
        if (r->alarm_next <= now) {
            rtc_raise_alarm(r);
        } else {
            uint64_t delta = r->alarm_next - now;
            uint64_t mono = loop_now_ns();
            r->deadline_mono =
                delta > UINT64_MAX - mono ? UINT64_MAX : mono + delta;
            loop_timer_arm(r->timer, r->deadline_mono);
        }
    }
    dev_unlock();
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned size)
{
    struct goldfish_rtc *r = opaque;
    (void)size;

    switch (off) {
    case RTC_TIME_LOW: {
        uint64_t t = rtc_now(r);
        r->time_high = (uint32_t)(t >> 32);
        return (uint32_t)t;
    }
    case RTC_TIME_HIGH:
        return r->time_high;
    case RTC_ALARM_LOW:
        return (uint32_t)r->alarm_next;
    case RTC_ALARM_HIGH:
        return (uint32_t)(r->alarm_next >> 32);
    case RTC_IRQ_ENABLED:
        return r->irq_enabled;
    case RTC_ALARM_STATUS:
        return r->alarm_running;
    default:
        log_guest("goldfish_rtc: read at bad offset %#llx",
                  (unsigned long long)off);
        return 0;
    }
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct goldfish_rtc *r = opaque;
    uint32_t v = (uint32_t)val;
    (void)size;

    switch (off) {
    case RTC_TIME_LOW:
    case RTC_TIME_HIGH: {
        uint64_t host = rtc_host_ns();
        uint64_t cur = host + r->offset;
        uint64_t want = off == RTC_TIME_LOW
                            ? (cur & 0xffffffff00000000ull) | v
                            : (cur & 0xffffffffull) | (uint64_t)v << 32;
        r->offset = want - host;
        break;
    }
    case RTC_ALARM_LOW:
        r->alarm_next = (r->alarm_next & 0xffffffff00000000ull) | v;
        rtc_set_alarm(r);
        break;
    case RTC_ALARM_HIGH:
        r->alarm_next = (r->alarm_next & 0xffffffffull) | (uint64_t)v << 32;
        break;
    case RTC_IRQ_ENABLED:
        r->irq_enabled = v & 1;
        rtc_update_irq(r);
        break;
    case RTC_CLEAR_ALARM:
        rtc_clear_alarm(r);
        break;
    case RTC_CLEAR_INTERRUPT:
        r->irq_pending = false;
        rtc_update_irq(r);
        break;
    default:
        log_guest("goldfish_rtc: write at bad offset %#llx",
                  (unsigned long long)off);
        break;
    }
}

static const struct bus_ops rtc_ops = {
    .read = rtc_read,
    .write = rtc_write,
    .min_size = 4,
    .max_size = 4,
};

struct goldfish_rtc *goldfish_rtc_new(struct bus *bus, uint64_t base,
                                      struct irq_line irq, struct error *err)
{
    struct goldfish_rtc *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(err, -ENOMEM, "goldfish_rtc: out of memory");
        return NULL;
    }
    r->irq = irq;
    if (bus_map(bus, base, GOLDFISH_RTC_SIZE, &rtc_ops, r, "goldfish_rtc",
                err) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

/* Main-loop thread with the vCPUs stopped: nothing else touches r, so no
 * lock is needed (and the caller may hold it). */
void goldfish_rtc_free(struct goldfish_rtc *r)
{
    if (!r) {
        return;
    }
    if (r->sync_queued) {
        /* A deferred call still holds r: it frees r when it runs. */
        r->dying = true;
        return;
    }
    if (r->timer) {
        loop_timer_free(r->timer);
    }
    free(r);
}

void goldfish_rtc_reset(struct goldfish_rtc *r)
{
    /* As QEMU: the guest's clock offset survives, like a battery RTC. */
    rtc_clear_alarm(r);
    r->alarm_next = 0;
    r->time_high = 0;
    r->irq_enabled = false;
    r->irq_pending = false;
    rtc_update_irq(r);
}
