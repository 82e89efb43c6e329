/* SPDX-License-Identifier: MIT */
/*
 * The guest's address space in linux-user mode. Guest addresses are host
 * addresses (docs/user.md "Memory"): mmap, munmap, mprotect and mremap go
 * to the host kernel unchanged, and this file remembers which pages belong
 * to the guest and with which protections, in a two-level table of one
 * byte per page. The CPU asks it on TLB misses (mem_page_ok), so guest
 * accesses to pages it does not own, including swede's own memory, fault
 * as SIGSEGV in the guest. MAP_FIXED may only replace guest pages or free
 * address space, never swede's. brk is emulated with anonymous mappings
 * after the program's data, since the host brk belongs to swede's malloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "user/user.h"

#define L1_SHIFT 30
#define L1_SIZE  (GUEST_VA_END >> L1_SHIFT)
#define L2_SIZE  (1u << (L1_SHIFT - 12))

static _Atomic(uint8_t *) page_table[L1_SIZE];
_Atomic unsigned user_map_gen;

static uint8_t *leaf(uint64_t va, bool create)
{
    uint64_t i = va >> L1_SHIFT;
    uint8_t *l;

    if (i >= L1_SIZE) {
        return NULL;
    }
    l = atomic_load_explicit(&page_table[i], memory_order_acquire);
    if (!l && create) {
        uint8_t *n = mmap(NULL, L2_SIZE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint8_t *expect = NULL;
        if (n == MAP_FAILED) {
            return NULL;
        }
        if (atomic_compare_exchange_strong(&page_table[i], &expect, n)) {
            l = n;
        } else {
            munmap(n, L2_SIZE);
            l = expect;
        }
    }
    return l;
}

void mem_set_flags(uint64_t start, uint64_t len, unsigned flags)
{
    uint64_t end = (start + len + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);

    for (uint64_t va = start & ~(TARGET_PAGE - 1);
         va < end && va < GUEST_VA_END; va += TARGET_PAGE) {
        uint8_t *l = leaf(va, flags != 0);
        if (l) {
            l[(va >> 12) & (L2_SIZE - 1)] = (uint8_t)flags;
        }
    }
}

unsigned mem_flags(uint64_t va)
{
    uint8_t *l = leaf(va, false);
    return l ? l[(va >> 12) & (L2_SIZE - 1)] : 0;
}

bool mem_page_ok(uint64_t va, enum rv_user_access acc)
{
    static const unsigned need[] = { PAGE_R, PAGE_W, PAGE_X };
    return (mem_flags(va) & need[acc]) != 0;
}

bool mem_range_ok(uint64_t va, uint64_t len, unsigned need)
{
    if (va + len < va) {
        return false;
    }
    for (uint64_t p = va & ~(TARGET_PAGE - 1); p < va + len; p += TARGET_PAGE) {
        if ((mem_flags(p) & need) != need) {
            return false;
        }
    }
    return true;
}

/* Pointers the guest passes to system calls: every page of [addr,
 * addr+len) must be the guest's, readable (or writable, which implies
 * readable in the table). One leaf lookup per GiB, then a byte per page. */
bool user_access_ok(uint64_t addr, uint64_t len, bool write)
{
    unsigned need = write ? PAGE_W : PAGE_R;
    uint64_t end = addr + len, p;

    if (len == 0) {
        return true;
    }
    if (end < addr || end > GUEST_VA_END) {
        return false;
    }
    p = addr & ~(TARGET_PAGE - 1);
    while (p < end) {
        const uint8_t *l = leaf(p, false);
        uint64_t lend = (p | ((1ull << L1_SHIFT) - 1)) + 1;

        if (!l) {
            return false;
        }
        for (; p < end && p < lend; p += TARGET_PAGE) {
            if (!(l[(p >> 12) & (L2_SIZE - 1)] & need)) {
                return false;
            }
        }
    }
    return true;
}

int64_t user_strnlen(uint64_t addr, uint64_t max)
{
    uint64_t n = 0;

    while (n < max) {
        uint64_t p = addr + n;
        uint64_t chunk = TARGET_PAGE - (p & (TARGET_PAGE - 1));
        const char *z;

        if (p < addr || p >= GUEST_VA_END || !(mem_flags(p) & PAGE_R)) {
            return -EFAULT;
        }
        if (chunk > max - n) {
            chunk = max - n;
        }
        z = memchr((const void *)(uintptr_t)p, 0, chunk);
        if (z) {
            return (int64_t)(n + (uint64_t)(z - (const char *)(uintptr_t)p));
        }
        n += chunk;
    }
    return (int64_t)max;
}

unsigned mem_prot_flags(int prot)
{
    return PAGE_VALID | ((prot & PROT_READ) ? PAGE_R : 0) |
           ((prot & PROT_WRITE) ? PAGE_W | PAGE_R : 0) |
           ((prot & PROT_EXEC) ? PAGE_X | PAGE_R : 0);
}

void mem_changed(void)
{
    atomic_fetch_add(&user_map_gen, 1);
    if (ut_self) {
        rv_user_flush(ut_self->cpu);
        ut_self->map_gen = atomic_load(&user_map_gen);
    }
}

/* Is [addr, addr+len) guest-owned or free host address space? Free parts
 * are reserved (PROT_NONE) on the way, so a MAP_FIXED cannot hit swede. */
static bool fixed_ok(uint64_t addr, uint64_t len)
{
    uint64_t p = addr;

    if (addr + len > GUEST_VA_END || addr + len < addr || addr < 0x1000) {
        return false;
    }
    while (p < addr + len) {
        uint64_t q = p;
        if (mem_flags(p) & PAGE_VALID) {
            p += TARGET_PAGE;
            continue;
        }
        while (q < addr + len && !(mem_flags(q) & PAGE_VALID)) {
            q += TARGET_PAGE;
        }
        void *r =
            mmap((void *)(uintptr_t)p, q - p, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (r == MAP_FAILED) {
            return false;
        }
        if (r != (void *)(uintptr_t)p) {
            munmap(r, q - p);
            return false;
        }
        mem_set_flags(p, q - p, PAGE_VALID);
        p = q;
    }
    return true;
}

int64_t mem_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd,
                 uint64_t off)
{
    void *r;

    if (len == 0 || (off & (TARGET_PAGE - 1))) {
        return -EINVAL;
    }
    len = (len + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    if (flags & MAP_FIXED_NOREPLACE) {
        for (uint64_t p = addr; p < addr + len; p += TARGET_PAGE) {
            if (mem_flags(p) & PAGE_VALID) {
                return -EEXIST;
            }
        }
        flags = (flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED;
    }
    if (flags & MAP_FIXED) {
        if (addr & (TARGET_PAGE - 1)) {
            return -EINVAL;
        }
        if (!fixed_ok(addr, len)) {
            return -ENOMEM;
        }
    } else if (addr && !mem_range_ok(addr, len, 0)) {
        addr = 0;
    }
    /* MAP_GROWSDOWN and friends mean nothing to an interpreter. */
    flags &= ~(MAP_GROWSDOWN | MAP_EXECUTABLE | MAP_DENYWRITE);
    r = mmap((void *)(uintptr_t)addr, len, prot, flags, fd, (off_t)off);
    if (r == MAP_FAILED) {
        return -errno;
    }
    if ((uint64_t)(uintptr_t)r + len > GUEST_VA_END) {
        munmap(r, len);
        return -ENOMEM;
    }
    mem_set_flags((uint64_t)(uintptr_t)r, len, mem_prot_flags(prot));
    mem_changed();
    return (int64_t)(uintptr_t)r;
}

int64_t mem_munmap(uint64_t addr, uint64_t len)
{
    if ((addr & (TARGET_PAGE - 1)) || len == 0) {
        return -EINVAL;
    }
    len = (len + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    if (addr + len > GUEST_VA_END || addr + len < addr) {
        return -EINVAL;
    }
    /* Only the guest's own pages go away. */
    for (uint64_t p = addr; p < addr + len; p += TARGET_PAGE) {
        if (mem_flags(p) & PAGE_VALID) {
            uint64_t q = p;
            while (q < addr + len && (mem_flags(q) & PAGE_VALID)) {
                q += TARGET_PAGE;
            }
            munmap((void *)(uintptr_t)p, q - p);
            mem_set_flags(p, q - p, 0);
            p = q - TARGET_PAGE;
        }
    }
    mem_changed();
    return 0;
}

int64_t mem_mprotect(uint64_t addr, uint64_t len, int prot)
{
    if (addr & (TARGET_PAGE - 1)) {
        return -EINVAL;
    }
    len = (len + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    if (!mem_range_ok(addr, len, PAGE_VALID)) {
        return -ENOMEM;
    }
    if (mprotect((void *)(uintptr_t)addr, len, prot & ~PROT_GROWSDOWN) < 0) {
        return -errno;
    }
    mem_set_flags(addr, len, mem_prot_flags(prot));
    mem_changed();
    return 0;
}

int64_t mem_mremap(uint64_t old, uint64_t olen, uint64_t nlen, int flags,
                   uint64_t naddr)
{
    unsigned fl;
    void *r;

    olen = (olen + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    nlen = (nlen + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    if (!olen || !mem_range_ok(old, olen, PAGE_VALID)) {
        return -EFAULT;
    }
    fl = mem_flags(old);
    if (flags & MREMAP_FIXED) {
        if (!fixed_ok(naddr, nlen)) {
            return -ENOMEM;
        }
        r = mremap((void *)(uintptr_t)old, olen, nlen, flags,
                   (void *)(uintptr_t)naddr);
    } else {
        /* Growing in place must not run into swede's mappings. */
        if (nlen > olen && !fixed_ok(old + olen, nlen - olen)) {
            if (!(flags & MREMAP_MAYMOVE)) {
                return -ENOMEM;
            }
            r = mremap((void *)(uintptr_t)old, olen, nlen, flags);
        } else {
            if (nlen > olen) {
                munmap((void *)(uintptr_t)(old + olen), nlen - olen);
            }
            r = mremap((void *)(uintptr_t)old, olen, nlen,
                       flags & ~MREMAP_MAYMOVE);
        }
    }
    if (r == MAP_FAILED) {
        return -errno;
    }
    if (r != (void *)(uintptr_t)old || nlen < olen) {
        uint64_t keep = r == (void *)(uintptr_t)old ? nlen : 0;
        mem_set_flags(old + keep, olen - keep, 0);
    }
    mem_set_flags((uint64_t)(uintptr_t)r, nlen, fl);
    mem_changed();
    return (int64_t)(uintptr_t)r;
}

int64_t mem_brk(uint64_t addr)
{
    uint64_t cur = (uproc.brk_cur + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);
    uint64_t want = (addr + TARGET_PAGE - 1) & ~(TARGET_PAGE - 1);

    if (addr < uproc.brk_start) {
        return (int64_t)uproc.brk_cur;
    }
    if (want > cur) {
        void *r =
            mmap((void *)(uintptr_t)cur, want - cur, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (r == MAP_FAILED || r != (void *)(uintptr_t)cur) {
            if (r != MAP_FAILED) {
                munmap(r, want - cur);
            }
            return (int64_t)uproc.brk_cur;
        }
        mem_set_flags(cur, want - cur, mem_prot_flags(PROT_READ | PROT_WRITE));
    } else if (want < cur) {
        munmap((void *)(uintptr_t)want, cur - want);
        mem_set_flags(want, cur - want, 0);
        mem_changed();
    }
    uproc.brk_cur = addr;
    return (int64_t)addr;
}

int mem_maps_fd(void)
{
    FILE *in = fopen("/proc/self/maps", "r");
    int fd = memfd_create("maps", MFD_CLOEXEC);
    char line[PATH_MAX + 128];

    if (fd < 0 || !in) {
        if (in) {
            fclose(in);
        }
        return fd < 0 ? -errno : -EIO;
    }
    while (fgets(line, sizeof(line), in)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) != 2) {
            continue;
        }
        /* Keep the guest's mappings (by their first page); [stack] etc.
         * of the host are swede's, not the guest's. */
        if (!(mem_flags(lo) & PAGE_VALID) || strstr(line, "[vdso]") ||
            strstr(line, "[vvar]") || strstr(line, "[vsyscall]") ||
            strstr(line, "[heap]")) {
            continue;
        }
        if (write(fd, line, strlen(line)) < 0) {
            break;
        }
    }
    fclose(in);
    lseek(fd, 0, SEEK_SET);
    return fd;
}
