/* SPDX-License-Identifier: MIT */
/*
 * The SiFive test finisher as QEMU's hw/misc/sifive_test.c: one register
 * at offset 0 whose low 16 bits select FINISHER_PASS (0x5555, power off
 * with status 0), FINISHER_FAIL (0x3333, power off with the status in
 * bits 31:16, 1 when that is 0 so a failure never looks like success) or
 * FINISHER_RESET (0x7777). The request is posted with runstate_request()
 * and the main loop woken; acting on it is the main loop's job. Reads
 * return 0. No state, so nothing to reset or free.
 */
#include "hw/misc/sifive_test.h"

#include <stddef.h>

#include "bus/bus.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/runstate.h"

#define FINISHER_FAIL  0x3333
#define FINISHER_PASS  0x5555
#define FINISHER_RESET 0x7777

static uint64_t sifive_test_read(void *opaque, uint64_t off, unsigned size)
{
    (void)opaque;
    (void)off;
    (void)size;
    return 0;
}

static void sifive_test_write(void *opaque, uint64_t off, uint64_t val,
                              unsigned size)
{
    (void)opaque;
    (void)size;

    if (off != 0) {
        log_guest("sifive_test: write %#llx at bad offset %#llx",
                  (unsigned long long)val, (unsigned long long)off);
        return;
    }
    unsigned status = val & 0xffff;
    int code = (int)((val >> 16) & 0xffff);

    switch (status) {
    case FINISHER_PASS:
        runstate_request(RUNSTATE_REQ_SHUTDOWN, 0);
        break;
    case FINISHER_FAIL:
        runstate_request(RUNSTATE_REQ_SHUTDOWN, code ? code : 1);
        break;
    case FINISHER_RESET:
        runstate_request(RUNSTATE_REQ_RESET, 0);
        break;
    default:
        log_guest("sifive_test: unknown finisher value %#llx",
                  (unsigned long long)val);
        return;
    }
    loop_wakeup();
}

static const struct bus_ops sifive_test_ops = {
    .read = sifive_test_read,
    .write = sifive_test_write,
    .min_size = 4,
    .max_size = 4,
};

int sifive_test_new(struct bus *bus, uint64_t base, struct error *err)
{
    return bus_map(bus, base, SIFIVE_TEST_SIZE, &sifive_test_ops, NULL,
                   "sifive_test", err);
}
