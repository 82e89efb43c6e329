/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the virtio-blk request decoder (src/hw/virtio/blk.c) and
 * the raw block backend behind it: the input is a list of descriptor
 * chains whose buffers (placement, length, direction, contents: headers,
 * sectors, discard segments) come from the fuzzer. Each chain is posted on
 * one of two queues of a device over a 64 KiB temporary image; the I/O is
 * completed (drain + poll, as the main loop would) before the next one,
 * and a flag can reset the device with the last request still in flight.
 *
 * Input: byte 0 = flags (bit 0: reset with I/O in flight at the end;
 * bit 1: negotiate no optional features); then per chain one byte
 * (bits 0-1: buffers - 1, bit 2: queue) and per buffer 1 flag byte
 * (bit 0: device-writable), a 16-bit offset (in 16-byte units from the
 * data area) and a 16-bit length, followed, for readable buffers, by up
 * to length bytes of contents. Checks: no crash, no sanitizer report, the
 * image never grows.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../dev/vdev_driver.h"
#include "backend/block.h"
#include "core/loop.h"
#include "core/options.h"
#include "hw/virtio/blk.h"

#define DISK_SIZE  (64u << 10)
#define MAX_CHAINS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static struct blk_backend *blk;
static struct virtio_blk *vblk;
static struct virtio_dev *d;
static int disk_fd = -1;

static void machine_init(void)
{
    struct error err = { 0 };
    struct opts o = { 0 };
    char path[] = "/tmp/swede-fuzz-blk-XXXXXX";
    char s[128];

    if (loop_init(&err) < 0 || vd_ram(&mem) < 0) {
        __builtin_trap();
    }
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, DISK_SIZE) < 0) {
        __builtin_trap();
    }
    disk_fd = fd; /* kept to check the size */
    snprintf(s, sizeof(s), "file=%s,format=raw,if=none,id=f,discard=unmap",
             path);
    if (opts_parse(&o, s, NULL, "-drive", &err) < 0) {
        __builtin_trap();
    }
    blk = blk_backend_open(&o, &err);
    opts_free(&o);
    unlink(path);
    if (!blk) {
        __builtin_trap();
    }
    struct virtio_blk_conf conf = { .num_queues = 2,
                                    .queue_size = 16,
                                    .serial = "fuzz",
                                    .discard = true,
                                    .write_zeroes = true };
    vblk = virtio_blk_new(&mem, blk, &conf, &err);
    if (!vblk) {
        __builtin_trap();
    }
    d = virtio_blk_vdev(vblk);
}

static void complete_io(void)
{
    blk_backend_drain(blk);
    blk_backend_poll(blk);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    struct vd_queue q[2];

    if (!ready) {
        machine_init();
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    uint8_t flags = data[0];
    size_t p = 1;

    vd_ring_next = VD_RAM_BASE;
    if (!vd_features(d, (flags & 2) ? 0 : ~0ull) ||
        !vd_queue(&q[0], d, 0, 16) || !vd_queue(&q[1], d, 1, 16)) {
        __builtin_trap();
    }
    vd_driver_ok(d);

    for (unsigned c = 0; c < MAX_CHAINS && p < size; c++) {
        uint8_t ch = data[p++];
        unsigned nbuf = 1 + (ch & 3);
        struct vd_queue *qq = &q[(ch >> 2) & 1];
        struct vd_buf b[4];
        unsigned k = 0;
        while (k < nbuf && p + 5 <= size) {
            uint8_t bf = data[p];
            uint16_t off = (uint16_t)(data[p + 1] | data[p + 2] << 8);
            uint16_t len = (uint16_t)(data[p + 3] | data[p + 4] << 8);
            p += 5;
            b[k].gpa = VD_DATA_BASE + (uint64_t)off * 16;
            b[k].len = len;
            b[k].write = bf & 1;
            if (!b[k].write) {
                size_t n = size - p < len ? size - p : len;
                mem_write(&mem, b[k].gpa, data + p, n);
                p += n;
            }
            k++;
        }
        if (k == 0) {
            break;
        }
        vd_post(qq, b, k);
        vd_notify(qq);
        if (!((flags & 1) && p >= size)) {
            complete_io();
        }
        while (vd_used(qq, NULL, NULL)) {
        }
    }
    /* Reset, possibly with the last request in flight; its completion
     * must not touch the new generation. */
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    complete_io();

    struct stat st;
    if (fstat(disk_fd, &st) < 0 || st.st_size != DISK_SIZE) {
        __builtin_trap();
    }
    return 0;
}
