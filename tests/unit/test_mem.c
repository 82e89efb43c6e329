/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for mem/: block setup (rounding, overlap), translation, and
 * the bounds checks that guest-supplied ranges go through: ranges that
 * straddle a block end, lie between blocks or wrap around 2^64.
 */
#include <errno.h>
#include <string.h>

#include "core/error.h"
#include "harness.h"
#include "mem/mem.h"

TEST(add_and_find)
{
    struct mem_map mm = { 0 };
    struct error err = { 0 };
    CHECK_EQ(mem_add_block(&mm, 0x80000000, 0x100000, false, "ram", &err), 0);
    CHECK_EQ(mem_add_block(&mm, 0x1000, 100, true, "rom", &err), 0);
    CHECK_EQ(mm.n, 2);
    CHECK_EQ(mm.blocks[1].size, 0x1000); /* page-rounded */
    CHECK(mem_find(&mm, 0x80000000, 8) == &mm.blocks[0]);
    CHECK(mem_find(&mm, 0x800ffff8, 8) == &mm.blocks[0]);
    CHECK(mem_find(&mm, 0x800ffff9, 8) == NULL);
    CHECK(mem_find(&mm, 0x800fffff, 0) == &mm.blocks[0]);
    CHECK(mem_find(&mm, 0x80100000, 0) == NULL);
    CHECK(mem_find(&mm, 0x7fffffff, 2) == NULL);
    CHECK(mem_find(&mm, 0x1fff, 1) == &mm.blocks[1]);

    /* Overlaps, in both directions. */
    struct error e2 = { 0 };
    CHECK(mem_add_block(&mm, 0x800ff000, 0x2000, false, "x", &e2) < 0);
    CHECK(strstr(e2.msg, "ram") != NULL);
    struct error e3 = { 0 };
    CHECK(mem_add_block(&mm, 0x7ffff000, 0x2000, false, "y", &e3) < 0);
    CHECK_EQ(mm.n, 2);
    mem_free(&mm);
    CHECK_EQ(mm.n, 0);
}

TEST(bad_blocks)
{
    struct mem_map mm = { 0 };
    struct error err = { 0 };
    CHECK(mem_add_block(&mm, 0, 0, false, "zero", &err) < 0);
    struct error e2 = { 0 };
    CHECK(mem_add_block(&mm, UINT64_MAX - 0xfff, 0x2000, false, "wrap", &e2) <
          0);
    struct error e3 = { 0 };
    CHECK(mem_add_block(&mm, 0x1000, UINT64_MAX, false, "huge", &e3) < 0);
    CHECK_EQ(mm.n, 0);
    /* The very top page of the address space is fine. */
    struct error e4 = { 0 };
    CHECK_EQ(mem_add_block(&mm, UINT64_MAX - 0xfff, 0x1000, false, "top", &e4),
             0);
    CHECK(mem_ptr(&mm, UINT64_MAX, 1, true) != NULL);
    CHECK(mem_ptr(&mm, UINT64_MAX, 2, true) == NULL);
    CHECK(mem_ptr(&mm, UINT64_MAX - 0xfff, 0x1000, true) != NULL);
    mem_free(&mm);
}

TEST(ptr_bounds)
{
    struct mem_map mm = { 0 };
    struct error err = { 0 };
    CHECK_EQ(mem_add_block(&mm, 0x10000, 0x10000, false, "a", &err), 0);
    CHECK_EQ(mem_add_block(&mm, 0x20000, 0x10000, false, "b", &err), 0);
    uint8_t *a = mem_ptr(&mm, 0x10000, 0x10000, true);
    CHECK(a == mm.blocks[0].host);
    CHECK(mem_ptr(&mm, 0x1fff0, 0x10, false) == a + 0xfff0);
    /* Adjacent blocks are still separate mappings: no straddling. */
    CHECK(mem_ptr(&mm, 0x1fff0, 0x11, false) == NULL);
    CHECK(mem_ptr(&mm, 0x1ffff, 2, false) == NULL);
    /* gpa + len wraps around 2^64 to land inside a block. */
    CHECK(mem_ptr(&mm, 0x10010, UINT64_MAX, false) == NULL);
    CHECK(mem_ptr(&mm, 0x10010, UINT64_MAX - 0xf, false) == NULL);
    CHECK(mem_ptr(&mm, UINT64_MAX - 0xf, 0x20020, false) == NULL);
    CHECK(mem_ptr(&mm, 0, 0x10010, false) == NULL);
    mem_free(&mm);
}

TEST(copies_and_rom)
{
    struct mem_map mm = { 0 };
    struct error err = { 0 };
    CHECK_EQ(mem_add_block(&mm, 0x1000, 0x1000, true, "rom", &err), 0);
    CHECK_EQ(mem_add_block(&mm, 0x80000000, 0x2000, false, "ram", &err), 0);
    uint8_t buf[16], out[16] = { 0 };
    for (int i = 0; i < 16; i++) {
        buf[i] = (uint8_t)(0xa0 + i);
    }
    CHECK_EQ(mem_write(&mm, 0x80000ff8, buf, 16), 0);
    CHECK_EQ(mem_read(&mm, 0x80000ff8, out, 16), 0);
    CHECK(memcmp(buf, out, 16) == 0);
    CHECK_EQ(mm.blocks[1].host[0xff8], 0xa0);
    CHECK_EQ(mem_write(&mm, 0x80001ff8, buf, 16), -EFAULT);
    CHECK_EQ(mem_read(&mm, 0x80001ff8, out, 16), -EFAULT);
    CHECK_EQ(mem_read(&mm, 0x5000, out, 1), -EFAULT);

    /* ROM: not writable by the guest, loadable by the board. */
    CHECK_EQ(mem_write(&mm, 0x1000, buf, 4), -EFAULT);
    CHECK(mem_ptr(&mm, 0x1000, 4, true) == NULL);
    CHECK(mem_ptr(&mm, 0x1000, 4, false) != NULL);
    CHECK_EQ(mem_load(&mm, 0x1000, buf, 4), 0);
    CHECK_EQ(mem_read(&mm, 0x1002, out, 1), 0);
    CHECK_EQ(out[0], 0xa2);
    CHECK_EQ(mem_load(&mm, 0x1ffe, buf, 4), -EFAULT);

    /* Zero-filled. */
    CHECK_EQ(mem_read(&mm, 0x80001800, out, 8), 0);
    CHECK_EQ(out[0] | out[7], 0);
    mem_free(&mm);
}

TEST(too_many_blocks)
{
    struct mem_map mm = { 0 };
    struct error err = { 0 };
    for (unsigned i = 0; i < MEM_MAX_BLOCKS; i++) {
        CHECK_EQ(mem_add_block(&mm, 0x100000ull * (i + 1), 0x1000, false, "blk",
                               &err),
                 0);
    }
    CHECK(mem_add_block(&mm, 0x40000000, 0x1000, false, "one_more", &err) < 0);
    CHECK(err_is_set(&err));
    mem_free(&mm);
}

int main(void)
{
    RUN(add_and_find);
    RUN(bad_blocks);
    RUN(ptr_bounds);
    RUN(copies_and_rom);
    RUN(too_many_blocks);
    HARNESS_END();
}
