/* SPDX-License-Identifier: MIT */
/*
 * SiFive test finisher device tests: the three finisher codes post the
 * right run-state request and exit code, everything else (other values,
 * other offsets, narrow and wide accesses) posts nothing.
 */
#include <stdint.h>

#include "bus/bus.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/runstate.h"
#include "harness.h"
#include "hw/misc/sifive_test.h"

#define BASE 0x100000ull

static struct bus *bus;

static void setup(void)
{
    struct error err = { 0 };
    bus = bus_new();
    CHECK_EQ(sifive_test_new(bus, BASE, &err), 0);
    runstate_take(NULL);
}

static void teardown(void)
{
    bus_free(bus);
}

static enum runstate_req take(int *code)
{
    *code = -1;
    return runstate_take(code);
}

TEST(pass_powers_off_with_zero)
{
    int code;
    setup();
    CHECK(bus_write(bus, BASE, 4, 0x5555));
    CHECK(runstate_pending());
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 0);
    /* The code bits are ignored for PASS, as QEMU. */
    CHECK(bus_write(bus, BASE, 4, 0x00075555));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 0);
    teardown();
}

TEST(fail_carries_code)
{
    int code;
    setup();
    CHECK(bus_write(bus, BASE, 4, (42u << 16) | 0x3333));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 42);
    CHECK(bus_write(bus, BASE, 4, 0xffff3333));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 0xffff);
    /* A failure never looks like success. */
    CHECK(bus_write(bus, BASE, 4, 0x3333));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 1);
    teardown();
}

TEST(reset_requests_reset)
{
    int code;
    setup();
    CHECK(bus_write(bus, BASE, 4, 0x7777));
    CHECK_EQ(take(&code), RUNSTATE_REQ_RESET);
    teardown();
}

TEST(first_request_wins)
{
    int code;
    setup();
    CHECK(bus_write(bus, BASE, 4, (3u << 16) | 0x3333));
    CHECK(bus_write(bus, BASE, 4, 0x5555));
    CHECK(bus_write(bus, BASE, 4, 0x7777));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 3);
    CHECK_EQ(take(&code), RUNSTATE_REQ_NONE);
    teardown();
}

TEST(hostile_writes_do_nothing)
{
    int code;
    uint64_t v;
    setup();
    CHECK(bus_write(bus, BASE, 4, 0));
    CHECK(bus_write(bus, BASE, 4, 0x1234));
    CHECK(bus_write(bus, BASE, 4, 0x5556));
    CHECK(bus_write(bus, BASE + 4, 4, 0x5555));
    CHECK(bus_write(bus, BASE + 0xffc, 4, 0x7777));
    CHECK(bus_write(bus, BASE + 2, 2, 0x5555)); /* code half only */
    CHECK(bus_write(bus, BASE + 1, 1, 0x55));
    CHECK(bus_write(bus, BASE + 0xffe, 4, 0x5555)); /* crosses the end */
    CHECK(bus_read(bus, BASE, 4, &v));
    CHECK_EQ(v, 0);
    CHECK(bus_read(bus, BASE + 0x10, 8, &v));
    CHECK_EQ(v, 0);
    CHECK(!runstate_pending());
    CHECK_EQ(take(&code), RUNSTATE_REQ_NONE);
    teardown();
}

TEST(narrow_and_wide_writes)
{
    int code;
    setup();
    /* A 16-bit store of the status reaches the register widened. */
    CHECK(bus_write(bus, BASE, 2, 0x5555));
    CHECK_EQ(take(&code), RUNSTATE_REQ_SHUTDOWN);
    CHECK_EQ(code, 0);
    /* A 64-bit store: the low word is the register. */
    CHECK(bus_write(bus, BASE, 8, 0xdeadbeef00057777ull));
    CHECK_EQ(take(&code), RUNSTATE_REQ_RESET);
    teardown();
}

TEST(overlap_fails)
{
    struct error err = { 0 };
    setup();
    CHECK(sifive_test_new(bus, BASE + 0x800, &err) < 0);
    CHECK(err_is_set(&err));
    teardown();
}

int main(void)
{
    struct error err = { 0 };
    /* The finisher wakes the main loop; give it one to wake. */
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    RUN(pass_powers_off_with_zero);
    RUN(fail_carries_code);
    RUN(reset_requests_reset);
    RUN(first_request_wins);
    RUN(hostile_writes_do_nothing);
    RUN(narrow_and_wide_writes);
    RUN(overlap_fails);
    HARNESS_END();
}
