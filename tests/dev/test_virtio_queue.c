/* SPDX-License-Identifier: MIT */
/*
 * Split-virtqueue tests (src/hw/virtio/queue.c) on fake guest RAM, without
 * a device or transport: ring validation, popping direct and indirect
 * chains into iovecs, the bounded copy helpers, pushing, unpop, index
 * wrap-around, notification suppression (flags and event idx), and every
 * malformed-ring rule ending in -EIO with the queue broken until reset.
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "harness.h"
#include "hw/virtio/queue.h"
#include "mem/mem.h"

#define RAM      0x80000000ull
#define RAM_SIZE (1ull << 20)
#define DESC     (RAM + 0x0000)
#define AVAIL    (RAM + 0x4000)
#define USED     (RAM + 0x5000)
#define DATA     (RAM + 0x10000)
#define IND      (RAM + 0x80000)
#define ROM      0x1000ull

static struct mem_map mem;
static struct virtq q;
static struct virtq_elem e;
static uint16_t avail_idx;

static void *host(uint64_t gpa)
{
    void *p = mem_ptr(&mem, gpa, 1, false);
    CHECK(p != NULL);
    return p;
}

static void setup(uint16_t num, bool event_idx, bool indirect)
{
    struct error err = { 0 };
    if (mem.n == 0) {
        CHECK(mem_add_block(&mem, RAM, RAM_SIZE, false, "ram", &err) == 0);
        CHECK(mem_add_block(&mem, ROM, 0x1000, true, "rom", &err) == 0);
    }
    memset(host(RAM), 0, RAM_SIZE);
    memset(&q, 0, sizeof(q));
    q.mem = &mem;
    q.num_max = 256;
    virtq_reset(&q);
    q.num = num;
    q.desc_gpa = DESC;
    q.avail_gpa = AVAIL;
    q.used_gpa = USED;
    q.event_idx = event_idx;
    q.indirect = indirect;
    CHECK(virtq_validate(&q));
    q.ready = true;
    avail_idx = 0;
}

static void desc(uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                 uint16_t flags, uint16_t next)
{
    struct vring_desc d = {
        .addr = addr, .len = len, .flags = flags, .next = next
    };
    memcpy(host(table + 16ull * i), &d, 16);
}

static void post(uint16_t head)
{
    uint16_t *ring = host(AVAIL + 4);
    ring[avail_idx % q.num] = head;
    avail_idx++;
    *(uint16_t *)host(AVAIL + 2) = avail_idx;
}

static uint16_t used_idx(void)
{
    return *(uint16_t *)host(USED + 2);
}

static void used_elem(unsigned i, uint32_t *id, uint32_t *len)
{
    uint32_t *p = host(USED + 4 + 8ull * (i % q.num));
    *id = p[0];
    *len = p[1];
}

TEST(validate)
{
    setup(8, false, false);
    q.ready = false;
    q.num = 0;
    CHECK(!virtq_validate(&q));
    q.num = 6;
    CHECK(!virtq_validate(&q));
    q.num = 512; /* > num_max */
    CHECK(!virtq_validate(&q));
    q.num = 8;
    q.desc_gpa = DESC + 8;
    CHECK(!virtq_validate(&q));
    q.desc_gpa = DESC;
    q.avail_gpa = AVAIL + 1;
    CHECK(!virtq_validate(&q));
    q.avail_gpa = AVAIL;
    q.used_gpa = USED + 2;
    CHECK(!virtq_validate(&q));
    q.used_gpa = RAM + RAM_SIZE - 16; /* runs past the end */
    CHECK(!virtq_validate(&q));
    q.used_gpa = ROM; /* read-only */
    CHECK(!virtq_validate(&q));
    q.used_gpa = USED;
    q.desc_gpa = 0xfffffffffffffff0ull;
    CHECK(!virtq_validate(&q));
    q.desc_gpa = DESC;
    CHECK(virtq_validate(&q));
    /* Size 1 works. */
    q.num = 1;
    CHECK(virtq_validate(&q));
}

TEST(pop_direct)
{
    setup(8, false, false);
    CHECK_EQ(virtq_pop(&q, &e), 0);
    memcpy(host(DATA), "hello, ", 7);
    memcpy(host(DATA + 0x100), "world", 5);
    desc(DESC, 3, DATA, 7, VRING_DESC_F_NEXT, 5);
    desc(DESC, 5, DATA + 0x100, 5, VRING_DESC_F_NEXT, 0);
    desc(DESC, 0, DATA + 0x200, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
         1); /* empty: no iovec */
    desc(DESC, 1, DATA + 0x200, 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
    desc(DESC, 2, DATA + 0x300, 8, VRING_DESC_F_WRITE, 0);
    post(3);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    CHECK_EQ(e.head, 3);
    CHECK_EQ(e.n_out, 2);
    CHECK_EQ(e.n_in, 2);
    CHECK_EQ(e.out_len, 12);
    CHECK_EQ(e.in_len, 12);
    char buf[32] = { 0 };
    CHECK_EQ(virtq_read(&e, 0, buf, sizeof(buf)), 12);
    CHECK(memcmp(buf, "hello, world", 12) == 0);
    CHECK_EQ(virtq_read(&e, 5, buf, 4), 4);
    CHECK(memcmp(buf, ", wo", 4) == 0);
    CHECK_EQ(virtq_read(&e, 12, buf, 4), 0);
    CHECK_EQ(virtq_read(&e, 100, buf, 4), 0);
    CHECK_EQ(virtq_write(&e, 2, "ABCDEFGHIJKLMN", 14), 10);
    CHECK(memcmp(host(DATA + 0x202), "AB", 2) == 0);
    CHECK(memcmp(host(DATA + 0x300), "CDEFGHIJ", 8) == 0);
    CHECK_EQ(virtq_pop(&q, &e), 0);

    virtq_push(&q, &e, 1000); /* clamped to in_len */
    CHECK_EQ(used_idx(), 1);
    uint32_t id, len;
    used_elem(0, &id, &len);
    CHECK_EQ(id, 3);
    CHECK_EQ(len, 12);
}

TEST(unpop)
{
    setup(4, false, false);
    desc(DESC, 2, DATA, 16, 0, 0);
    post(2);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    virtq_unpop(&q);
    memset(&e, 0, sizeof(e));
    CHECK_EQ(virtq_pop(&q, &e), 1);
    CHECK_EQ(e.head, 2);
    CHECK_EQ(virtq_pop(&q, &e), 0);
}

TEST(indirect)
{
    setup(4, false, true);
    desc(DESC, 0, DATA, 8, VRING_DESC_F_NEXT, 1);
    desc(DESC, 1, IND, 3 * 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
    desc(IND, 0, DATA + 0x10, 8, VRING_DESC_F_NEXT, 2);
    desc(IND, 2, DATA + 0x20, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    desc(IND, 1, DATA + 0x30, 8, VRING_DESC_F_WRITE, 0);
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    CHECK_EQ(e.n_out, 2);
    CHECK_EQ(e.n_in, 2);
    CHECK(e.in[1].iov_base == host(DATA + 0x30));
    /* Without the feature, the same chain is malformed. */
    setup(4, false, false);
    desc(DESC, 0, IND, 16, VRING_DESC_F_INDIRECT, 0);
    desc(IND, 0, DATA, 8, 0, 0);
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), -EIO);
}

/* Expect the chain at head (already written) to be malformed. */
static void expect_bad(uint16_t head)
{
    post(head);
    CHECK_EQ(virtq_pop(&q, &e), -EIO);
    CHECK(q.broken);
    CHECK_EQ(virtq_pop(&q, &e), -EIO);
    CHECK_EQ(used_idx(), 0);
}

TEST(malformed)
{
    const uint16_t NX = VRING_DESC_F_NEXT, WR = VRING_DESC_F_WRITE,
                   IN = VRING_DESC_F_INDIRECT;

    setup(4, false, true); /* loop */
    desc(DESC, 0, DATA, 8, NX, 1);
    desc(DESC, 1, DATA, 8, NX, 0);
    expect_bad(0);
    setup(4, false, true); /* chain through every entry and around */
    for (unsigned i = 0; i < 4; i++) {
        desc(DESC, i, DATA, 8, NX, (i + 1) % 4);
    }
    expect_bad(2);
    setup(4, false, true); /* next out of range */
    desc(DESC, 0, DATA, 8, NX, 4);
    expect_bad(0);
    setup(4, false, true); /* head out of range */
    expect_bad(4);
    setup(4, false, true); /* outside RAM */
    desc(DESC, 0, 0x40000000, 8, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* wraps past 2^64 */
    desc(DESC, 0, 0xfffffffffffffff0ull, 0x20, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* runs off the end of RAM */
    desc(DESC, 0, RAM + RAM_SIZE - 8, 16, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* huge length */
    desc(DESC, 0, DATA, 0xffffffffu, WR, 0);
    expect_bad(0);
    setup(4, false, true); /* writable buffer in ROM */
    desc(DESC, 0, ROM, 16, WR, 0);
    expect_bad(0);
    setup(4, false, true); /* zero-length at a wild address */
    desc(DESC, 0, 0x7fff0000ull, 0, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* readable after writable */
    desc(DESC, 0, DATA, 8, WR | NX, 1);
    desc(DESC, 1, DATA, 8, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* ... also across an indirect table */
    desc(DESC, 0, DATA, 8, WR | NX, 1);
    desc(DESC, 1, IND, 16, IN, 0);
    desc(IND, 0, DATA, 8, 0, 0);
    expect_bad(0);
    setup(4, false, true); /* nested indirect */
    desc(DESC, 0, IND, 32, IN, 0);
    desc(IND, 0, DATA, 8, NX, 1);
    desc(IND, 1, IND, 32, IN, 0);
    expect_bad(0);
    setup(4, false, true); /* indirect with NEXT */
    desc(DESC, 0, IND, 16, IN | NX, 1);
    desc(DESC, 1, DATA, 8, 0, 0);
    desc(IND, 0, DATA, 8, 0, 0);
    expect_bad(0);
    static const uint32_t bad_len[] = { 0, 8, 17, 16 * (VIRTQ_MAX_SIZE + 1) };
    for (unsigned i = 0; i < 4; i++) {
        setup(4, false, true);
        desc(DESC, 0, IND, bad_len[i], IN, 0);
        expect_bad(0);
    }
    setup(4, false, true); /* indirect table outside RAM */
    desc(DESC, 0, RAM + RAM_SIZE - 16, 32, IN, 0);
    expect_bad(0);
    setup(4, false, true); /* loop inside the indirect table */
    desc(DESC, 0, IND, 48, IN, 0);
    desc(IND, 0, DATA, 8, NX, 1);
    desc(IND, 1, DATA, 8, NX, 2);
    desc(IND, 2, DATA, 8, NX, 0);
    expect_bad(0);
    setup(4, false, true); /* next out of the indirect table */
    desc(DESC, 0, IND, 32, IN, 0);
    desc(IND, 0, DATA, 8, NX, 2);
    expect_bad(0);
    setup(2, false, true); /* more than VIRTQ_MAX_SIZE readable buffers */
    desc(DESC, 0, DATA, 8, NX, 1);
    desc(DESC, 1, IND, 16 * VIRTQ_MAX_SIZE, IN, 0);
    for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
        desc(IND, i, DATA, 8, i + 1 < VIRTQ_MAX_SIZE ? NX : 0, i + 1);
    }
    expect_bad(0);
    setup(4, false, true); /* avail idx jumps by more than num */
    desc(DESC, 0, DATA, 8, 0, 0);
    *(uint16_t *)host(AVAIL + 2) = 5;
    CHECK_EQ(virtq_pop(&q, &e), -EIO);
    /* Reset and set up again: usable. */
    virtq_reset(&q);
    CHECK(!q.broken && !q.ready);
    setup(4, false, true);
    desc(DESC, 0, DATA, 8, 0, 0);
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
}

TEST(max_indirect_ok)
{
    /* A full indirect table of VIRTQ_MAX_SIZE entries is fine. */
    setup(2, false, true);
    desc(DESC, 1, IND, 16 * VIRTQ_MAX_SIZE, VRING_DESC_F_INDIRECT, 0);
    for (unsigned i = 0; i < VIRTQ_MAX_SIZE; i++) {
        desc(IND, i, DATA + i, 1,
             (i + 1 < VIRTQ_MAX_SIZE ? VRING_DESC_F_NEXT : 0) |
                 (i >= 512 ? VRING_DESC_F_WRITE : 0),
             i + 1);
    }
    post(1);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    CHECK_EQ(e.n_out, 512);
    CHECK_EQ(e.n_in, 512);
}

TEST(wrap)
{
    setup(2, false, false);
    q.last_avail = q.used_idx = 65534;
    avail_idx = 65534;
    *(uint16_t *)host(USED + 2) = 65534;
    for (unsigned i = 0; i < 6; i++) {
        desc(DESC, i % 2, DATA, 8, VRING_DESC_F_WRITE, 0);
        post(i % 2);
        CHECK_EQ(virtq_pop(&q, &e), 1);
        CHECK_EQ(e.head, i % 2);
        virtq_push(&q, &e, 4);
        CHECK_EQ(used_idx(), (uint16_t)(65535 + i));
        CHECK_EQ(virtq_pop(&q, &e), 0);
    }
}

TEST(notify_flags)
{
    setup(4, false, false);
    desc(DESC, 0, DATA, 8, VRING_DESC_F_WRITE, 0);
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    virtq_push(&q, &e, 0);
    CHECK(virtq_should_notify(&q));
    *(uint16_t *)host(AVAIL) = VRING_AVAIL_F_NO_INTERRUPT;
    CHECK(!virtq_should_notify(&q));
    virtq_set_notification(&q, false);
    CHECK_EQ(*(uint16_t *)host(USED), VRING_USED_F_NO_NOTIFY);
    virtq_set_notification(&q, true);
    CHECK_EQ(*(uint16_t *)host(USED), 0);
    /* Not ready: nothing happens. */
    q.ready = false;
    CHECK(!virtq_should_notify(&q));
    virtq_push(&q, &e, 0);
    CHECK_EQ(used_idx(), 1);
}

TEST(notify_event_idx)
{
    setup(8, true, false);
    uint16_t *used_event = host(AVAIL + 4 + 2 * 8);
    uint16_t *avail_event = host(USED + 4 + 8 * 8);
    for (unsigned i = 0; i < 8; i++) {
        desc(DESC, i, DATA, 8, VRING_DESC_F_WRITE, 0);
    }
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    CHECK_EQ(*avail_event, 1); /* notify me for the next one */
    virtq_push(&q, &e, 0);
    CHECK(virtq_should_notify(&q)); /* first time: always */
    /* Driver wants an interrupt once used idx passes 2 (i.e. hits 3). */
    *used_event = 2;
    for (unsigned i = 1; i < 4; i++) {
        post(i);
        CHECK_EQ(virtq_pop(&q, &e), 1);
        virtq_push(&q, &e, 0);
        CHECK_EQ(virtq_should_notify(&q), i == 2);
    }
    /* Batched pushes crossing the event in one go. */
    *used_event = 4;
    post(4);
    post(5);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    virtq_push(&q, &e, 0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    virtq_push(&q, &e, 0);
    CHECK(virtq_should_notify(&q));
    CHECK(!virtq_should_notify(&q)); /* nothing new */
    /* Re-enabling asks for the next buffer. */
    *avail_event = 0;
    virtq_set_notification(&q, true);
    CHECK_EQ(*avail_event, avail_idx);
}

TEST(copies_bounded)
{
    setup(4, false, false);
    desc(DESC, 0, DATA, 3, VRING_DESC_F_NEXT, 1);
    desc(DESC, 1, DATA + 3, 3, VRING_DESC_F_WRITE, 0);
    memcpy(host(DATA), "abc", 3);
    post(0);
    CHECK_EQ(virtq_pop(&q, &e), 1);
    char b[8];
    CHECK_EQ(virtq_read(&e, 0, b, 8), 3);
    CHECK_EQ(virtq_read(&e, (size_t)-1, b, 8), 0);
    CHECK_EQ(virtq_write(&e, 0, "xyzw", 4), 3);
    CHECK_EQ(virtq_write(&e, 3, "xyzw", 4), 0);
    CHECK_EQ(virtq_write(&e, (size_t)-1, "xyzw", 4), 0);
    CHECK(memcmp(host(DATA), "abcxyz", 6) == 0);
}

int main(void)
{
    RUN(validate);
    RUN(pop_direct);
    RUN(unpop);
    RUN(indirect);
    RUN(malformed);
    RUN(max_indirect_ok);
    RUN(wrap);
    RUN(notify_flags);
    RUN(notify_event_idx);
    RUN(copies_bounded);
    mem_free(&mem);
    HARNESS_END();
}
