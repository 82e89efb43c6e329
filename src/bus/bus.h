/* SPDX-License-Identifier: MIT */
/*
 * The MMIO bus: named regions and dispatch (design.md "Bus region").
 * Each region's ops declare the access sizes they accept; the bus splits
 * wider accesses and widens narrower ones (read-modify-write) so devices
 * only see sizes they asked for. Unclaimed accesses read zero, ignore
 * writes and are logged (rate-limited). Dispatch runs under the device
 * lock; code that touches device state from the main loop takes it with
 * dev_lock()/dev_unlock().
 */
#ifndef SWEDE_BUS_BUS_H
#define SWEDE_BUS_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct error;

struct bus_ops {
    /* off is relative to the region base; size is one of the accepted
     * sizes (1, 2, 4, 8) and off is aligned to it. */
    uint64_t (*read)(void *opaque, uint64_t off, unsigned size);
    void (*write)(void *opaque, uint64_t off, uint64_t val, unsigned size);
    unsigned min_size; /* smallest access the device accepts (1..8) */
    unsigned max_size; /* largest (1..8) */
};

struct bus_region {
    uint64_t base;
    uint64_t len;
    const struct bus_ops *ops;
    void *opaque;
    const char *name;
};

struct bus;

struct bus *bus_new(void);
void bus_free(struct bus *bus);
/* Board-build time only. Fails on overlap. */
int bus_map(struct bus *bus, uint64_t gpa, uint64_t len,
            const struct bus_ops *ops, void *opaque, const char *name,
            struct error *err);
/* The region holding gpa, or NULL (no lock needed: regions are fixed). */
const struct bus_region *bus_find(const struct bus *bus, uint64_t gpa);
/* Iterate regions in address order (for info mtree / the FDT). */
unsigned bus_count(const struct bus *bus);
const struct bus_region *bus_region_at(const struct bus *bus, unsigned i);

/* Any thread. size is 1, 2, 4 or 8; gpa need not be aligned. Return
 * false when no region claims gpa (then *val = 0). */
bool bus_read(struct bus *bus, uint64_t gpa, unsigned size, uint64_t *val);
bool bus_write(struct bus *bus, uint64_t gpa, unsigned size, uint64_t val);

/* The device lock (design.md "Threads and locking"). Not recursive. */
void dev_lock(void);
void dev_unlock(void);

#endif
