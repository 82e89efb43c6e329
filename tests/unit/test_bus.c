/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for bus/: region lookup and overlap, and the access shaping
 * devices rely on: wide accesses split, narrow or unaligned ones widened
 * into aligned read-modify-write, accesses past a region end split per
 * byte, unclaimed ones reading zero. A fake device records every access.
 */
#include <string.h>

#include "bus/bus.h"
#include "core/error.h"
#include "harness.h"

struct fake_access {
    char kind; /* 'r' or 'w' */
    uint64_t off;
    unsigned size;
    uint64_t val;
};

struct fake_dev {
    uint8_t regs[64];
    struct fake_access log[32];
    unsigned n;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
    struct fake_dev *d = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)d->regs[(off + i) % sizeof(d->regs)] << (8 * i);
    }
    if (d->n < 32) {
        d->log[d->n++] = (struct fake_access){ 'r', off, size, v };
    }
    return v;
}

static void fake_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    struct fake_dev *d = opaque;
    for (unsigned i = 0; i < size; i++) {
        d->regs[(off + i) % sizeof(d->regs)] = (uint8_t)(val >> (8 * i));
    }
    if (d->n < 32) {
        d->log[d->n++] = (struct fake_access){ 'w', off, size, val };
    }
}

static const struct bus_ops ops_32 = { fake_read, fake_write, 4, 4 };
static const struct bus_ops ops_any = { fake_read, fake_write, 1, 8 };
static const struct bus_ops ops_8 = { fake_read, fake_write, 1, 1 };

static void fake_fill(struct fake_dev *d)
{
    memset(d, 0, sizeof(*d));
    for (unsigned i = 0; i < sizeof(d->regs); i++) {
        d->regs[i] = (uint8_t)(0x10 + i);
    }
}

TEST(map_and_find)
{
    struct bus *bus = bus_new();
    struct fake_dev a, b, c;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x3000, 0x100, &ops_32, &c, "c", &err), 0);
    CHECK_EQ(bus_map(bus, 0x1000, 0x100, &ops_32, &a, "a", &err), 0);
    CHECK_EQ(bus_map(bus, 0x2000, 0x1000, &ops_32, &b, "b", &err), 0);
    CHECK_EQ(bus_count(bus), 3);
    CHECK_EQ(bus_region_at(bus, 0)->base, 0x1000);
    CHECK_EQ(bus_region_at(bus, 1)->base, 0x2000);
    CHECK_EQ(bus_region_at(bus, 2)->base, 0x3000);
    CHECK(bus_region_at(bus, 3) == NULL);
    CHECK(bus_find(bus, 0xfff) == NULL);
    CHECK(bus_find(bus, 0x1000)->opaque == &a);
    CHECK(bus_find(bus, 0x10ff)->opaque == &a);
    CHECK(bus_find(bus, 0x1100) == NULL);
    CHECK(bus_find(bus, 0x2fff)->opaque == &b);
    CHECK(bus_find(bus, 0x3000)->opaque == &c);
    CHECK(bus_find(bus, 0x3100) == NULL);
    CHECK(bus_find(bus, UINT64_MAX) == NULL);

    struct error e1 = { 0 };
    CHECK(bus_map(bus, 0x10f0, 0x20, &ops_32, &a, "x", &e1) < 0);
    CHECK(strstr(e1.msg, "'a'") != NULL);
    struct error e2 = { 0 };
    CHECK(bus_map(bus, 0x1f00, 0x101, &ops_32, &a, "y", &e2) < 0);
    struct error e3 = { 0 };
    CHECK(bus_map(bus, UINT64_MAX, 2, &ops_32, &a, "wrap", &e3) < 0);
    CHECK_EQ(bus_map(bus, 0x1100, 0xf00, &ops_32, &a, "gap", &err), 0);
    CHECK_EQ(bus_count(bus), 4);
    bus_free(bus);
}

TEST(split_wide)
{
    struct bus *bus = bus_new();
    struct fake_dev d;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x1000, 0x40, &ops_32, &d, "d", &err), 0);
    fake_fill(&d);
    uint64_t v = 0;
    CHECK(bus_read(bus, 0x1008, 8, &v));
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.log[0].kind, 'r');
    CHECK_EQ(d.log[0].off, 8);
    CHECK_EQ(d.log[0].size, 4);
    CHECK_EQ(d.log[1].off, 12);
    CHECK_EQ(d.log[1].size, 4);
    CHECK_EQ(v, 0x1f1e1d1c1b1a1918ull);

    d.n = 0;
    CHECK(bus_write(bus, 0x1010, 8, 0x8877665544332211ull));
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.log[0].kind, 'w');
    CHECK_EQ(d.log[0].off, 0x10);
    CHECK_EQ(d.log[0].val, 0x44332211);
    CHECK_EQ(d.log[1].kind, 'w');
    CHECK_EQ(d.log[1].off, 0x14);
    CHECK_EQ(d.log[1].val, 0x88776655);
    bus_free(bus);
}

TEST(widen_narrow)
{
    struct bus *bus = bus_new();
    struct fake_dev d;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x1000, 0x40, &ops_32, &d, "d", &err), 0);
    fake_fill(&d);
    uint64_t v = 0;
    CHECK(bus_read(bus, 0x1005, 1, &v));
    CHECK_EQ(d.n, 1);
    CHECK_EQ(d.log[0].off, 4);
    CHECK_EQ(d.log[0].size, 4);
    CHECK_EQ(v, 0x15);

    /* A byte store becomes a 4-byte read-modify-write. */
    d.n = 0;
    CHECK(bus_write(bus, 0x1006, 1, 0xab));
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.log[0].kind, 'r');
    CHECK_EQ(d.log[0].off, 4);
    CHECK_EQ(d.log[0].size, 4);
    CHECK_EQ(d.log[1].kind, 'w');
    CHECK_EQ(d.log[1].off, 4);
    CHECK_EQ(d.log[1].size, 4);
    CHECK_EQ(d.log[1].val, 0x17ab1514);

    /* Unaligned 4-byte load at 2: two aligned device reads. */
    d.n = 0;
    CHECK(bus_read(bus, 0x1002, 4, &v));
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.log[0].off, 0);
    CHECK_EQ(d.log[1].off, 4);
    CHECK_EQ(v, 0x15141312);

    /* Unaligned 4-byte store at 2: RMW of both words, other bytes kept. */
    d.n = 0;
    CHECK(bus_write(bus, 0x1002, 4, 0xddccbbaa));
    CHECK_EQ(d.n, 4);
    CHECK_EQ(d.log[1].kind, 'w');
    CHECK_EQ(d.log[1].val, 0xbbaa1110);
    CHECK_EQ(d.log[3].kind, 'w');
    CHECK_EQ(d.log[3].val, 0x17abddcc);
    bus_free(bus);
}

TEST(unaligned_flexible_device)
{
    struct bus *bus = bus_new();
    struct fake_dev d;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x1000, 0x40, &ops_any, &d, "d", &err), 0);
    fake_fill(&d);
    uint64_t v = 0;
    /* Aligned, accepted size: passed through as is. */
    CHECK(bus_read(bus, 0x1008, 8, &v));
    CHECK_EQ(d.n, 1);
    CHECK_EQ(d.log[0].size, 8);
    /* Unaligned 4 at 2 on a 1..8 device: two 2-byte accesses, no bytes
     * outside the access touched. */
    d.n = 0;
    CHECK(bus_read(bus, 0x1002, 4, &v));
    CHECK_EQ(d.n, 2);
    CHECK_EQ(d.log[0].off, 2);
    CHECK_EQ(d.log[0].size, 2);
    CHECK_EQ(d.log[1].off, 4);
    CHECK_EQ(d.log[1].size, 2);
    CHECK_EQ(v, 0x15141312);
    bus_free(bus);
}

TEST(cross_region_end)
{
    struct bus *bus = bus_new();
    struct fake_dev a, b;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x1000, 0x10, &ops_8, &a, "a", &err), 0);
    CHECK_EQ(bus_map(bus, 0x1010, 0x10, &ops_8, &b, "b", &err), 0);
    fake_fill(&a);
    fake_fill(&b);
    uint64_t v = 0;
    /* Last two bytes of a, first two of b. */
    CHECK(bus_read(bus, 0x100e, 4, &v));
    CHECK_EQ(a.n, 2);
    CHECK_EQ(b.n, 2);
    CHECK_EQ(v, 0x11101f1e);
    /* Past the end of b into nothing: the missing bytes read 0. */
    CHECK(bus_read(bus, 0x101e, 4, &v));
    CHECK_EQ(v, 0x1f1e);
    CHECK(bus_write(bus, 0x101f, 2, 0x5566));
    CHECK_EQ(b.regs[0xf], 0x66);
    bus_free(bus);
}

TEST(unclaimed)
{
    struct bus *bus = bus_new();
    struct fake_dev d;
    struct error err = { 0 };
    CHECK_EQ(bus_map(bus, 0x1000, 0x10, &ops_32, &d, "d", &err), 0);
    fake_fill(&d);
    uint64_t v = 123;
    CHECK(!bus_read(bus, 0x2000, 4, &v));
    CHECK_EQ(v, 0);
    CHECK(!bus_write(bus, 0x0, 8, 1));
    v = 123;
    CHECK(!bus_read(bus, UINT64_MAX, 8, &v));
    CHECK_EQ(v, 0);
    CHECK(!bus_read(bus, 0x1000, 3, &v)); /* not an access size */
    CHECK_EQ(d.n, 0);
    bus_free(bus);
}

int main(void)
{
    RUN(map_and_find);
    RUN(split_wide);
    RUN(widen_narrow);
    RUN(unaligned_flexible_device);
    RUN(cross_region_end);
    RUN(unclaimed);
    HARNESS_END();
}
