/* SPDX-License-Identifier: MIT */
/*
 * MMIO dispatch (design.md "Bus region"): regions sorted by base, found by
 * binary search. An access is turned into device accesses of a size the
 * region accepts, aligned to that size: wider ones are split, narrower or
 * unaligned ones become aligned reads of min_size with the bytes picked out
 * (read-modify-write for stores). Bytes are little-endian. An access that
 * runs past the end of its region is done one byte at a time, each byte
 * going to whatever claims it. Unclaimed bytes read zero, drop writes and
 * are logged rate-limited. All device calls happen under the one device
 * mutex. Interrupt lines are in irq.h; this file does not know devices.
 */
#include "bus/bus.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/log.h"

struct bus {
    struct bus_region *regions; /* sorted by base, non-overlapping */
    unsigned n;
};

static pthread_mutex_t dev_mutex = PTHREAD_MUTEX_INITIALIZER;

void dev_lock(void)
{
    pthread_mutex_lock(&dev_mutex);
}

void dev_unlock(void)
{
    pthread_mutex_unlock(&dev_mutex);
}

struct bus *bus_new(void)
{
    return calloc(1, sizeof(struct bus));
}

void bus_free(struct bus *bus)
{
    if (bus) {
        free(bus->regions);
        free(bus);
    }
}

static bool bus_size_ok(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

int bus_map(struct bus *bus, uint64_t gpa, uint64_t len,
            const struct bus_ops *ops, void *opaque, const char *name,
            struct error *err)
{
    if (len == 0 || len - 1 > UINT64_MAX - gpa) {
        return err_set(err, -EINVAL, "bus: region '%s' has a bad size", name);
    }
    if (!ops || !ops->read || !ops->write || !bus_size_ok(ops->min_size) ||
        !bus_size_ok(ops->max_size) || ops->min_size > ops->max_size) {
        return err_set(err, -EINVAL, "bus: region '%s' has bad ops", name);
    }
    uint64_t last = gpa + len - 1;
    unsigned pos = 0;
    while (pos < bus->n && bus->regions[pos].base < gpa) {
        pos++;
    }
    /* Sorted and disjoint: only the neighbours can overlap. */
    const struct bus_region *prev = pos ? &bus->regions[pos - 1] : NULL;
    const struct bus_region *next = pos < bus->n ? &bus->regions[pos] : NULL;
    const struct bus_region *clash = NULL;
    if (prev && prev->base + (prev->len - 1) >= gpa) {
        clash = prev;
    } else if (next && next->base <= last) {
        clash = next;
    }
    if (clash) {
        return err_set(err, -EEXIST,
                       "bus: region '%s' [0x%llx-0x%llx] overlaps '%s'", name,
                       (unsigned long long)gpa, (unsigned long long)last,
                       clash->name);
    }
    struct bus_region *r =
        realloc(bus->regions, (bus->n + 1) * sizeof(*bus->regions));
    if (!r) {
        return err_set(err, -ENOMEM, "bus: out of memory");
    }
    bus->regions = r;
    memmove(&r[pos + 1], &r[pos], (bus->n - pos) * sizeof(*r));
    r[pos] = (struct bus_region){
        .base = gpa, .len = len, .ops = ops, .opaque = opaque, .name = name
    };
    bus->n++;
    return 0;
}

const struct bus_region *bus_find(const struct bus *bus, uint64_t gpa)
{
    /* Last region with base <= gpa. */
    unsigned lo = 0, hi = bus->n;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (bus->regions[mid].base <= gpa) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    const struct bus_region *r = &bus->regions[lo - 1];
    return gpa - r->base < r->len ? r : NULL;
}

unsigned bus_count(const struct bus *bus)
{
    return bus->n;
}

const struct bus_region *bus_region_at(const struct bus *bus, unsigned i)
{
    return i < bus->n ? &bus->regions[i] : NULL;
}

static uint64_t bus_mask(unsigned size)
{
    return size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
}

/* The device access size for size bytes at off: size clamped to what the
 * device accepts, then halved while off is misaligned for it, so an
 * unaligned access touches no bytes outside itself unless min_size forces
 * it (then the edges are read, and rewritten unchanged for stores). */
static unsigned bus_unit(const struct bus_ops *ops, uint64_t off, unsigned size)
{
    unsigned u = size;
    if (u > ops->max_size) {
        u = ops->max_size;
    }
    if (u < ops->min_size) {
        u = ops->min_size;
    }
    while (u > ops->min_size && (off & (u - 1))) {
        u >>= 1;
    }
    return u;
}

/* [off, off+size) lies inside r. Device lock held. */
static uint64_t bus_region_read(const struct bus_region *r, uint64_t off,
                                unsigned size)
{
    const struct bus_ops *ops = r->ops;
    unsigned u = bus_unit(ops, off, size);
    if (u == size && (off & (u - 1)) == 0) {
        return ops->read(r->opaque, off, u) & bus_mask(u);
    }
    uint64_t val = 0;
    uint64_t end = off + size;
    for (uint64_t c = off & ~(uint64_t)(u - 1); c < end; c += u) {
        uint64_t dv = ops->read(r->opaque, c, u);
        /* Bytes of chunk [c, c+u) that fall inside [off, end). */
        for (unsigned i = 0; i < u; i++) {
            uint64_t a = c + i;
            if (a >= off && a < end) {
                val |= ((dv >> (8 * i)) & 0xff) << (8 * (a - off));
            }
        }
    }
    return val;
}

static void bus_region_write(const struct bus_region *r, uint64_t off,
                             unsigned size, uint64_t val)
{
    const struct bus_ops *ops = r->ops;
    unsigned u = bus_unit(ops, off, size);
    val &= bus_mask(size);
    if (u == size && (off & (u - 1)) == 0) {
        ops->write(r->opaque, off, val, u);
        return;
    }
    uint64_t end = off + size;
    for (uint64_t c = off & ~(uint64_t)(u - 1); c < end; c += u) {
        bool whole = c >= off && c + u <= end;
        uint64_t dv = whole ? 0 : ops->read(r->opaque, c, u);
        for (unsigned i = 0; i < u; i++) {
            uint64_t a = c + i;
            if (a >= off && a < end) {
                dv &= ~(0xffull << (8 * i));
                dv |= ((val >> (8 * (a - off))) & 0xff) << (8 * i);
            }
        }
        ops->write(r->opaque, c, dv & bus_mask(u), u);
    }
}

/* The whole access fits in r: no wrap, and off + size <= len. */
static bool bus_fits(const struct bus_region *r, uint64_t gpa, unsigned size)
{
    uint64_t off = gpa - r->base;
    return size <= r->len - off;
}

bool bus_read(struct bus *bus, uint64_t gpa, unsigned size, uint64_t *val)
{
    *val = 0;
    if (!bus_size_ok(size)) {
        log_guest("bus: read of bad size %u at 0x%llx", size,
                  (unsigned long long)gpa);
        return false;
    }
    const struct bus_region *r = bus_find(bus, gpa);
    if (!r) {
        log_guest("bus: unclaimed read of size %u at 0x%llx", size,
                  (unsigned long long)gpa);
        return false;
    }
    if (bus_fits(r, gpa, size)) {
        dev_lock();
        *val = bus_region_read(r, gpa - r->base, size);
        dev_unlock();
        return true;
    }
    /* Crosses the region's end: byte by byte, each to its own owner. */
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = gpa + i; /* may wrap past 2^64: then unclaimed */
        const struct bus_region *br = a >= gpa ? bus_find(bus, a) : NULL;
        if (!br) {
            log_guest("bus: unclaimed read of size 1 at 0x%llx",
                      (unsigned long long)a);
            continue;
        }
        dev_lock();
        v |= bus_region_read(br, a - br->base, 1) << (8 * i);
        dev_unlock();
    }
    *val = v;
    return true;
}

bool bus_write(struct bus *bus, uint64_t gpa, unsigned size, uint64_t val)
{
    if (!bus_size_ok(size)) {
        log_guest("bus: write of bad size %u at 0x%llx", size,
                  (unsigned long long)gpa);
        return false;
    }
    const struct bus_region *r = bus_find(bus, gpa);
    if (!r) {
        log_guest("bus: unclaimed write of size %u at 0x%llx (0x%llx)", size,
                  (unsigned long long)gpa,
                  (unsigned long long)(val & bus_mask(size)));
        return false;
    }
    if (bus_fits(r, gpa, size)) {
        dev_lock();
        bus_region_write(r, gpa - r->base, size, val);
        dev_unlock();
        return true;
    }
    for (unsigned i = 0; i < size; i++) {
        uint64_t a = gpa + i;
        const struct bus_region *br = a >= gpa ? bus_find(bus, a) : NULL;
        uint64_t b = (val >> (8 * i)) & 0xff;
        if (!br) {
            log_guest("bus: unclaimed write of size 1 at 0x%llx (0x%llx)",
                      (unsigned long long)a, (unsigned long long)b);
            continue;
        }
        dev_lock();
        bus_region_write(br, a - br->base, 1, b);
        dev_unlock();
    }
    return true;
}
