/* SPDX-License-Identifier: MIT */
/*
 * Guest memory blocks: each block is a memfd mapped MAP_SHARED (so it can
 * later be handed to vhost-user or another process), zero-filled and
 * page-rounded. Lookups scan the few blocks without a lock because blocks
 * are only added while the board is built. Every range check is written as
 * "offset < size && len <= size - offset" so a guest-supplied gpa + len
 * that wraps around 2^64 can't pass. No dirty logging yet.
 */
#include "mem/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/error.h"

/* The checks shared by both ways of adding a block; *size is rounded up
 * to a page. */
static int mem_check_new(struct mem_map *mm, uint64_t gpa, uint64_t *sizep,
                         const char *name, struct error *err)
{
    uint64_t size = *sizep;
    if (mm->n >= MEM_MAX_BLOCKS) {
        return err_set(err, -ENOSPC, "memory '%s': too many memory blocks",
                       name);
    }
    long page = sysconf(_SC_PAGESIZE);
    uint64_t psz = page > 0 ? (uint64_t)page : 4096;
    if (size == 0 || size > UINT64_MAX - (psz - 1)) {
        return err_set(err, -EINVAL, "memory '%s': invalid size 0x%llx", name,
                       (unsigned long long)size);
    }
    size = (size + psz - 1) & ~(psz - 1);
    if (size - 1 > UINT64_MAX - gpa) {
        return err_set(err, -EINVAL,
                       "memory '%s': 0x%llx bytes at 0x%llx wrap the "
                       "address space",
                       name, (unsigned long long)size, (unsigned long long)gpa);
    }
    if ((uint64_t)(size_t)size != size) {
        return err_set(err, -ENOMEM, "memory '%s': size too large", name);
    }
    uint64_t last = gpa + size - 1;
    for (unsigned i = 0; i < mm->n; i++) {
        const struct mem_block *b = &mm->blocks[i];
        uint64_t b_last = b->gpa + b->size - 1;
        if (gpa <= b_last && b->gpa <= last) {
            return err_set(
                err, -EEXIST, "memory '%s' [0x%llx-0x%llx] overlaps '%s'", name,
                (unsigned long long)gpa, (unsigned long long)last, b->name);
        }
    }
    *sizep = size;
    return 0;
}

int mem_add_block_host(struct mem_map *mm, uint64_t gpa, uint64_t size,
                       uint8_t *host, const uint8_t *ro_pages, const char *name,
                       struct error *err)
{
    int r = mem_check_new(mm, gpa, &size, name, err);
    if (r < 0) {
        return r;
    }
    char *dup = strdup(name);
    if (!dup) {
        return err_set(err, -ENOMEM, "memory '%s': out of memory", name);
    }
    struct mem_block *b = &mm->blocks[mm->n];
    b->gpa = gpa;
    b->size = size;
    b->host = host;
    b->fd = -1;
    b->readonly = false;
    b->external = true;
    b->ro_pages = ro_pages;
    b->name = dup;
    __atomic_store_n(&mm->n, mm->n + 1, __ATOMIC_RELEASE);
    return 0;
}

int mem_add_block(struct mem_map *mm, uint64_t gpa, uint64_t size,
                  bool readonly, const char *name, struct error *err)
{
    int r = mem_check_new(mm, gpa, &size, name, err);
    if (r < 0) {
        return r;
    }
    char *dup = strdup(name);
    if (!dup) {
        return err_set(err, -ENOMEM, "memory '%s': out of memory", name);
    }
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        free(dup);
        return err_set(err, -e, "memory '%s': memfd_create: %s", name,
                       strerror(e));
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        close(fd);
        free(dup);
        return err_set(err, -e, "memory '%s': cannot size to 0x%llx: %s", name,
                       (unsigned long long)size, strerror(e));
    }
    /* NORESERVE: guest RAM is touched lazily; don't charge it all up front. */
    void *host = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (host == MAP_FAILED) {
        int e = errno;
        close(fd);
        free(dup);
        return err_set(err, -e, "memory '%s': cannot map 0x%llx bytes: %s",
                       name, (unsigned long long)size, strerror(e));
    }
    struct mem_block *b = &mm->blocks[mm->n];
    b->gpa = gpa;
    b->size = size;
    b->host = host;
    b->fd = fd;
    b->readonly = readonly;
    b->external = false;
    b->name = dup;
    /* Publish the block only once it is complete. */
    __atomic_store_n(&mm->n, mm->n + 1, __ATOMIC_RELEASE);
    return 0;
}

void mem_free(struct mem_map *mm)
{
    for (unsigned i = 0; i < mm->n; i++) {
        struct mem_block *b = &mm->blocks[i];
        if (!b->external) {
            munmap(b->host, (size_t)b->size);
            close(b->fd);
        }
        free((char *)b->name);
    }
    memset(mm, 0, sizeof(*mm));
}

const struct mem_block *mem_find(const struct mem_map *mm, uint64_t gpa,
                                 uint64_t len)
{
    if (len == 0) {
        len = 1;
    }
    unsigned n = __atomic_load_n(&mm->n, __ATOMIC_ACQUIRE);
    for (unsigned i = 0; i < n; i++) {
        const struct mem_block *b = &mm->blocks[i];
        if (gpa >= b->gpa) {
            uint64_t off = gpa - b->gpa;
            if (off < b->size && len <= b->size - off) {
                return b;
            }
        }
    }
    return NULL;
}

/* Is any page of [off, off+len) of b marked read-only? */
static bool mem_ro_range(const struct mem_block *b, uint64_t off, uint64_t len)
{
    uint64_t last = (off + (len ? len : 1) - 1) / MEM_RO_PAGE;
    for (uint64_t pg = off / MEM_RO_PAGE; pg <= last; pg++) {
        uint8_t bits = __atomic_load_n(&b->ro_pages[pg / 8], __ATOMIC_ACQUIRE);
        if (bits & (1u << (pg % 8))) {
            return true;
        }
    }
    return false;
}

void *mem_ptr(const struct mem_map *mm, uint64_t gpa, uint64_t len, bool write)
{
    const struct mem_block *b = mem_find(mm, gpa, len);
    if (!b ||
        (write && (b->readonly ||
                   (b->ro_pages && mem_ro_range(b, gpa - b->gpa, len))))) {
        return NULL;
    }
    return b->host + (gpa - b->gpa);
}

int mem_read(const struct mem_map *mm, uint64_t gpa, void *buf, size_t len)
{
    if (len == 0) {
        return 0;
    }
    void *p = mem_ptr(mm, gpa, len, false);
    if (!p) {
        return -EFAULT;
    }
    memcpy(buf, p, len);
    return 0;
}

int mem_write(const struct mem_map *mm, uint64_t gpa, const void *buf,
              size_t len)
{
    if (len == 0) {
        return 0;
    }
    void *p = mem_ptr(mm, gpa, len, true);
    if (!p) {
        return -EFAULT;
    }
    memcpy(p, buf, len);
    return 0;
}

int mem_load(const struct mem_map *mm, uint64_t gpa, const void *buf,
             size_t len)
{
    if (len == 0) {
        return 0;
    }
    void *p = mem_ptr(mm, gpa, len, false);
    if (!p) {
        return -EFAULT;
    }
    memcpy(p, buf, len);
    return 0;
}
