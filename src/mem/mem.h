/* SPDX-License-Identifier: MIT */
/*
 * Guest memory: RAM and ROM blocks backed by memfd mappings, gpa -> hva
 * translation, and bounded copies. Every guest-supplied address and length
 * passes through mem_ptr()/mem_read()/mem_write(), which refuse anything
 * not wholly inside one block. Blocks are added while the board is built
 * and never move afterwards, so lookups take no lock.
 */
#ifndef SWEDE_MEM_MEM_H
#define SWEDE_MEM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

#define MEM_MAX_BLOCKS 8

struct mem_block {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
    int fd; /* memfd, for sharing with other processes later; -1 for a
               block added with mem_add_block_host */
    bool readonly;
    bool external; /* host mapping owned by whoever added it */
    /* Host blocks: one bit per MEM_RO_PAGE bytes (bit i % 8 of byte i / 8),
     * set where writes are refused, or NULL. Owned and changed by whoever
     * added the block, at run time (read with atomic loads). */
    const uint8_t *ro_pages;
    const char *name;
};

struct mem_map {
    struct mem_block blocks[MEM_MAX_BLOCKS];
    unsigned n;
};

/* Add a zero-filled block (page-rounded); fails on overlap or no memory. */
int mem_add_block(struct mem_map *mm, uint64_t gpa, uint64_t size,
                  bool readonly, const char *name, struct error *err);
#define MEM_RO_PAGE 4096u

/* Add a writable block over host memory the caller owns and keeps mapped
 * at the same address until after mem_free (mem_free leaves it alone).
 * For RAM-like device windows, such as virtio-gpu's host-visible region:
 * the owner may replace the pages inside (mmap MAP_FIXED) at run time,
 * because the CPU's TLBs and devices keep host pointers into the block,
 * which stay valid as long as the address range stays mapped, so no TLB
 * flush is needed. size must be page-aligned. ro_pages (NULL: none)
 * marks pages the owner may make read-only at run time: mem_ptr() refuses
 * writes there (the CPU then takes the write as an unclaimed bus access,
 * which is dropped). Entries the CPU's TLB filled for writing before a
 * page was marked can still write its host page, so the owner must back
 * such pages with memory a guest write cannot harm (a private
 * copy-on-write mapping). Same failures as mem_add_block. */
int mem_add_block_host(struct mem_map *mm, uint64_t gpa, uint64_t size,
                       uint8_t *host, const uint8_t *ro_pages, const char *name,
                       struct error *err);
void mem_free(struct mem_map *mm);

/* The block holding [gpa, gpa+len), or NULL. len 0 is treated as 1. */
const struct mem_block *mem_find(const struct mem_map *mm, uint64_t gpa,
                                 uint64_t len);
/* Host pointer for [gpa, gpa+len) if wholly inside one block and (for
 * write) writable; NULL otherwise. */
void *mem_ptr(const struct mem_map *mm, uint64_t gpa, uint64_t len, bool write);
/* Bounded copies; -EFAULT if the range is not wholly in guest memory.
 * mem_write refuses ROM; mem_load (for boards loading images) does not. */
int mem_read(const struct mem_map *mm, uint64_t gpa, void *buf, size_t len);
int mem_write(const struct mem_map *mm, uint64_t gpa, const void *buf,
              size_t len);
int mem_load(const struct mem_map *mm, uint64_t gpa, const void *buf,
             size_t len);

#endif
