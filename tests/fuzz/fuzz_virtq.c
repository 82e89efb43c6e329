/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the split virtqueue (src/hw/virtio/queue.c), the choke
 * point for guest-written rings. The input's first FUZZ_HDR bytes choose
 * the queue: size (a power of two up to VIRTQ_MAX_SIZE), negotiated
 * features (event idx, indirect), where the three rings sit in RAM, the
 * starting ring indices (to reach the 16-bit wrap-around) and how the
 * "guest" moves its available index between pops; the rest is guest RAM
 * (64 KiB at 0x80000000, followed by nothing; 4 KiB of ROM at 0x1000), so
 * descriptors, rings and indirect tables all come from the input. A
 * bounded number of pop / copy / push / notify rounds runs. Checks: no
 * crash, no sanitizer report, no hang, and the queue's own invariants
 * (popped chains are within limits and inside RAM; a broken queue stays
 * broken).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "hw/virtio/queue.h"
#include "mem/mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull
#define ROM_BASE 0x1000ull
#define FUZZ_HDR 16
#define ROUNDS   64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static struct virtq_elem elem;
static uint8_t scratch[RAM_SIZE];

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static bool in_ram(const void *p, size_t len)
{
    const uint8_t *ram = mem_ptr(&mem, RAM_BASE, RAM_SIZE, false);
    const uint8_t *rom = mem_ptr(&mem, ROM_BASE, 0x1000, false);
    const uint8_t *b = p;
    return (b >= ram && b + len <= ram + RAM_SIZE) ||
           (b >= rom && b + len <= rom + 0x1000);
}

static void check_elem(const struct virtq *q, const struct virtq_elem *e)
{
    uint64_t out = 0, in = 0;
    if (e->head >= q->num || e->n_out > VIRTQ_MAX_SIZE ||
        e->n_in > VIRTQ_MAX_SIZE) {
        __builtin_trap();
    }
    for (unsigned i = 0; i < e->n_out; i++) {
        if (!in_ram(e->out[i].iov_base, e->out[i].iov_len)) {
            __builtin_trap();
        }
        out += e->out[i].iov_len;
    }
    for (unsigned i = 0; i < e->n_in; i++) {
        /* writable buffers never in ROM */
        const uint8_t *ram = mem_ptr(&mem, RAM_BASE, RAM_SIZE, false);
        const uint8_t *b = e->in[i].iov_base;
        if (b < ram || b + e->in[i].iov_len > ram + RAM_SIZE) {
            __builtin_trap();
        }
        in += e->in[i].iov_len;
    }
    if (out != e->out_len || in != e->in_len || out + in > UINT32_MAX) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t hdr[FUZZ_HDR] = { 0 };
    struct virtq q;

    if (mem.n == 0) {
        struct error err = { 0 };
        if (mem_add_block(&mem, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0 ||
            mem_add_block(&mem, ROM_BASE, 0x1000, true, "rom", &err) < 0) {
            __builtin_trap();
        }
    }
    memcpy(hdr, data, size < FUZZ_HDR ? size : FUZZ_HDR);
    uint8_t *ram = mem_ptr(&mem, RAM_BASE, RAM_SIZE, true);
    memset(ram, 0, RAM_SIZE);
    if (size > FUZZ_HDR) {
        size_t n = size - FUZZ_HDR;
        memcpy(ram, data + FUZZ_HDR, n < RAM_SIZE ? n : RAM_SIZE);
    }

    /*
     * Header: [0] log2 queue size, [1] flags (bit 0 event idx, bit 1
     * indirect, bit 2 unpop sometimes, bit 3 toggle notifications),
     * [2..3] starting index, [4..5] desc, [6..7] avail, [8..9] used
     * offsets, [10] avail idx step per round, [11] bytes written per
     * request, [12..15] unused.
     */
    memset(&q, 0, sizeof(q));
    q.mem = &mem;
    q.num_max = VIRTQ_MAX_SIZE;
    virtq_reset(&q);
    q.num = (uint16_t)(1u << (hdr[0] % 11));
    q.event_idx = hdr[1] & 1;
    q.indirect = hdr[1] & 2;
    q.desc_gpa = RAM_BASE + ((uint64_t)get16(hdr + 4) << 4) % RAM_SIZE;
    q.avail_gpa = RAM_BASE + ((uint64_t)get16(hdr + 6) << 1) % RAM_SIZE;
    q.used_gpa = RAM_BASE + ((uint64_t)get16(hdr + 8) << 2) % RAM_SIZE;
    if (!virtq_validate(&q)) {
        return 0;
    }
    q.ready = true;
    q.last_avail = q.used_idx = get16(hdr + 2);

    bool unpopped = false;
    for (unsigned round = 0; round < ROUNDS; round++) {
        int r = virtq_pop(&q, &elem);
        if (r < 0) {
            if (!q.broken || virtq_pop(&q, &elem) != -EIO) {
                __builtin_trap();
            }
            break;
        }
        if (r == 1) {
            check_elem(&q, &elem);
            if ((hdr[1] & 4) && !unpopped && (round & 1)) {
                virtq_unpop(&q);
                unpopped = true;
                continue;
            }
            unpopped = false;
            size_t got = virtq_read(&elem, 0, scratch, sizeof(scratch));
            if (got > elem.out_len) {
                __builtin_trap();
            }
            size_t w = virtq_write(&elem, hdr[11], scratch,
                                   got < hdr[11] * 16u ? got : hdr[11] * 16u);
            virtq_push(&q, &elem, (uint32_t)w + hdr[11]);
        }
        if (hdr[1] & 8) {
            virtq_set_notification(&q, round & 1);
        }
        (void)virtq_should_notify(&q);
        /* The guest publishes more (or moves its index wildly). */
        uint16_t *idx = mem_ptr(&mem, q.avail_gpa + 2, 2, true);
        *idx = (uint16_t)(*idx + hdr[10]);
        if (r == 0 && hdr[10] == 0) {
            break;
        }
    }
    return 0;
}
