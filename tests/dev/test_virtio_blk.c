/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk-device and the raw block backend, in process: a temporary
 * file is the drive, the main loop delivers io_uring completions, and a
 * minimal driver (vdev_driver.h) posts requests. Checked against the
 * file's bytes: read/write round trips (header and data sharing a buffer,
 * data and status sharing one), flush, GET_ID, discard and write-zeroes;
 * hostile requests (out of range, partial sectors, read-only drive, no
 * status byte, short header, unknown types, bad segments) complete with
 * the right status and leave the file untouched; several queues; a reset
 * with I/O in flight; -drive option errors and cache modes; and the
 * shared virtio conformance suite over a virtio-mmio transport. The
 * backend tests run once per I/O engine (aio=io_uring, aio=threads), and
 * one drives the backend directly: completions only from the main loop, a
 * flush after every write submitted before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/block.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "harness.h"
#include "hw/virtio/blk.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

#define DISK_SECTORS 2048u
#define DISK_SIZE    (DISK_SECTORS * 512u)
#define MS           1000000ull

/* Guest addresses of the request parts. */
#define HDR_GPA    (VD_DATA_BASE)
#define STATUS_GPA (VD_DATA_BASE + 0x100)
#define DATA_GPA   (VD_DATA_BASE + 0x10000)
#define DATA2_GPA  (VD_DATA_BASE + 0x100000)

static struct mem_map mem;
static char path[64];
static struct blk_backend *blk;
static struct virtio_blk *vblk;
static struct virtio_dev *d;
static struct vd_queue q[4];
static const char *aio_mode = "io_uring"; /* the engine under test */

static uint8_t pattern_byte(uint64_t off)
{
    return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static void make_disk(void)
{
    strcpy(path, "/tmp/swede-blk-XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static uint8_t buf[DISK_SIZE];
    for (uint64_t i = 0; i < DISK_SIZE; i++) {
        buf[i] = pattern_byte(i);
    }
    CHECK(write(fd, buf, DISK_SIZE) == (ssize_t)DISK_SIZE);
    close(fd);
}

static bool file_bytes(uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t r = pread(fd, buf, len, (off_t)off);
    close(fd);
    return r == (ssize_t)len;
}

/* Does the file still hold the original pattern at [off, off+len)? */
static bool file_is_pattern(uint64_t off, size_t len)
{
    uint8_t *b = malloc(len);
    bool ok = file_bytes(off, b, len);
    for (size_t i = 0; ok && i < len; i++) {
        ok = b[i] == pattern_byte(off + i);
    }
    free(b);
    return ok;
}

static bool file_is_zero(uint64_t off, size_t len)
{
    uint8_t *b = malloc(len);
    bool ok = file_bytes(off, b, len);
    for (size_t i = 0; ok && i < len; i++) {
        ok = b[i] == 0;
    }
    free(b);
    return ok;
}

static struct blk_backend *open_drive(const char *extra, struct error *err)
{
    char s[256];
    struct opts o = { 0 };
    snprintf(s, sizeof(s), "file=%s,format=raw,if=none,id=hd0,aio=%s%s%s", path,
             aio_mode, *extra ? "," : "", extra);
    if (opts_parse(&o, s, NULL, "-drive", err) < 0) {
        return NULL;
    }
    struct blk_backend *b = blk_backend_open(&o, err);
    opts_free(&o);
    return b;
}

static bool setup_conf(const char *extra, const struct virtio_blk_conf *conf)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    make_disk();
    blk = open_drive(extra, &err);
    if (!blk) {
        printf("  open: %s\n", err.msg);
        return false;
    }
    vblk = virtio_blk_new(&mem, blk, conf, &err);
    CHECK(vblk != NULL);
    d = virtio_blk_vdev(vblk);
    CHECK(vd_features(d, ~0ull));
    for (unsigned i = 0; i < conf->num_queues && i < 4; i++) {
        CHECK(vd_queue(&q[i], d, i, 16));
    }
    vd_driver_ok(d);
    return true;
}

static bool setup(const char *extra)
{
    struct virtio_blk_conf conf = { .num_queues = 1,
                                    .queue_size = 256,
                                    .serial = "swede-serial-0123456789",
                                    .discard = true,
                                    .write_zeroes = true };
    return setup_conf(extra, &conf);
}

static void teardown(void)
{
    virtio_blk_free(vblk);
    blk_backend_close(blk);
    unlink(path);
    mem_free(&mem);
}

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

static void run_loop_ms(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * MS);
    loop_run();
    loop_timer_free(t);
}

/* The next used entry of qq, running the main loop up to 5 s for it. */
static bool wait_used(struct vd_queue *qq, uint32_t *id, uint32_t *len)
{
    uint64_t end = loop_now_ns() + 5000 * MS;
    while (!vd_used(qq, id, len)) {
        if (loop_now_ns() > end) {
            return false;
        }
        run_loop_ms(1);
    }
    return true;
}

static void put_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr h = { .type = htole32(type),
                                   .sector = htole64(sector) };
    mem_write(&mem, gpa, &h, sizeof(h));
}

static uint8_t status_at(uint64_t gpa)
{
    uint8_t s = 0xee;
    mem_read(&mem, gpa, &s, 1);
    return s;
}

/* Post chain b on queue qq, notify, wait; return the status byte at
 * STATUS_GPA (preset to 0xff) and the used length. */
static int submit(struct vd_queue *qq, const struct vd_buf *b, unsigned k,
                  uint32_t *used_len)
{
    uint8_t ff = 0xff;
    mem_write(&mem, STATUS_GPA, &ff, 1);
    uint16_t h = vd_post(qq, b, k);
    vd_notify(qq);
    uint32_t id = 0, len = 0;
    if (!wait_used(qq, &id, &len)) {
        return -1;
    }
    CHECK_EQ(id, h);
    if (used_len) {
        *used_len = len;
    }
    return status_at(STATUS_GPA);
}

/* The common shape: header, one data buffer, status. */
static int rw(uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
              uint32_t *used_len)
{
    put_hdr(HDR_GPA, type, sector);
    struct vd_buf b[3] = { { HDR_GPA, 16, false },
                           { data_gpa, len, type != VIRTIO_BLK_T_OUT },
                           { STATUS_GPA, 1, true } };
    if (len == 0) {
        b[1] = b[2];
        return submit(&q[0], b, 2, used_len);
    }
    return submit(&q[0], b, 3, used_len);
}

static int seg_req(uint32_t type, uint64_t sector, uint32_t num, uint32_t flags)
{
    struct virtio_blk_discard_write_zeroes seg = {
        .sector = htole64(sector),
        .num_sectors = htole32(num),
        .flags = htole32(flags),
    };
    put_hdr(HDR_GPA, type, 0);
    mem_write(&mem, HDR_GPA + 16, &seg, sizeof(seg));
    struct vd_buf b[2] = { { HDR_GPA, 32, false }, { STATUS_GPA, 1, true } };
    return submit(&q[0], b, 2, NULL);
}

static void fill(uint64_t gpa, size_t len, uint8_t seed)
{
    uint8_t *p = mem_ptr(&mem, gpa, len, true);
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed + i * 3);
    }
}

TEST(identity_and_config)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_BLOCK);
    CHECK(strcmp(virtio_blk_model.name, "virtio-blk-device") == 0);
    struct virtio_blk_config c;
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(le64toh(c.capacity), DISK_SECTORS);
    CHECK_EQ(le32toh(c.blk_size), 512);
    CHECK_EQ(le32toh(c.seg_max), 254);
    CHECK_EQ(le32toh(c.max_discard_seg), 1);
    CHECK_EQ(le32toh(c.max_write_zeroes_seg), 1);
    uint64_t f = d->features;
    CHECK(f & (1ull << VIRTIO_BLK_F_FLUSH));
    CHECK(f & (1ull << VIRTIO_BLK_F_DISCARD));
    CHECK(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
    CHECK(f & (1ull << VIRTIO_RING_F_EVENT_IDX));
    CHECK(f & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
    CHECK(!(f & (1ull << VIRTIO_BLK_F_RO)));
    CHECK(!(f & (1ull << VIRTIO_BLK_F_MQ)));
    CHECK_EQ(blk_backend_size(blk), DISK_SIZE);
    teardown();
}

TEST(read_write_round_trip)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    uint32_t used;
    /* Read sectors 3..4: the file's pattern lands in guest memory. */
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 3, DATA_GPA, 1024, &used), VIRTIO_BLK_S_OK);
    CHECK_EQ(used, 1025);
    uint8_t *p = mem_ptr(&mem, DATA_GPA, 1024, false);
    bool same = true;
    for (unsigned i = 0; i < 1024; i++) {
        same &= p[i] == pattern_byte(3 * 512 + i);
    }
    CHECK(same);

    /* Write sectors 10..11 and find them in the file. */
    fill(DATA_GPA, 1024, 0x40);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 10, DATA_GPA, 1024, &used), VIRTIO_BLK_S_OK);
    CHECK_EQ(used, 1);
    uint8_t fb[1024];
    CHECK(file_bytes(10 * 512, fb, 1024));
    CHECK(memcmp(fb, mem_ptr(&mem, DATA_GPA, 1024, false), 1024) == 0);
    CHECK(file_is_pattern(9 * 512, 512));
    CHECK(file_is_pattern(12 * 512, 512));

    /* Header and data in one readable buffer, status in its own. */
    put_hdr(DATA2_GPA, VIRTIO_BLK_T_OUT, 20);
    fill(DATA2_GPA + 16, 512, 0x77);
    struct vd_buf b[2] = { { DATA2_GPA, 16 + 512, false },
                           { STATUS_GPA, 1, true } };
    CHECK_EQ(submit(&q[0], b, 2, NULL), VIRTIO_BLK_S_OK);
    CHECK(file_bytes(20 * 512, fb, 512));
    CHECK(memcmp(fb, mem_ptr(&mem, DATA2_GPA + 16, 512, false), 512) == 0);

    /* Data split over three descriptors, the last also holding the
     * status byte. */
    put_hdr(HDR_GPA, VIRTIO_BLK_T_IN, 20);
    memset(mem_ptr(&mem, DATA_GPA, 0x3000, true), 0xcc, 0x3000);
    struct vd_buf c[4] = { { HDR_GPA, 16, false },
                           { DATA_GPA, 100, true },
                           { DATA_GPA + 0x1000, 300, true },
                           { DATA_GPA + 0x2000, 113, true } };
    uint16_t h = vd_post(&q[0], c, 4);
    vd_notify(&q[0]);
    uint32_t id = 0, len = 0;
    CHECK(wait_used(&q[0], &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, 513);
    CHECK_EQ(status_at(DATA_GPA + 0x2000 + 112), VIRTIO_BLK_S_OK);
    CHECK(memcmp(mem_ptr(&mem, DATA_GPA, 100, false), fb, 100) == 0);
    CHECK(memcmp(mem_ptr(&mem, DATA_GPA + 0x1000, 300, false), fb + 100, 300) ==
          0);
    CHECK(memcmp(mem_ptr(&mem, DATA_GPA + 0x2000, 112, false), fb + 400, 112) ==
          0);

    /* Zero-length read: OK, nothing touched. */
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, DATA_GPA, 0, &used), VIRTIO_BLK_S_OK);
    CHECK_EQ(used, 1);
    teardown();
}

TEST(flush_and_get_id)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    fill(DATA_GPA, 512, 1);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 512, NULL), VIRTIO_BLK_S_OK);
    CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 0, NULL), VIRTIO_BLK_S_OK);

    uint32_t used;
    memset(mem_ptr(&mem, DATA_GPA, 32, true), 0xaa, 32);
    CHECK_EQ(rw(VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 20, &used), VIRTIO_BLK_S_OK);
    CHECK_EQ(used, 21);
    CHECK(memcmp(mem_ptr(&mem, DATA_GPA, 20, false), "swede-serial-0123456",
                 20) == 0);
    /* A short buffer gets a prefix; nothing past it is written. */
    memset(mem_ptr(&mem, DATA_GPA, 32, true), 0xaa, 32);
    CHECK_EQ(rw(VIRTIO_BLK_T_GET_ID, 0, DATA_GPA, 5, &used), VIRTIO_BLK_S_OK);
    CHECK_EQ(used, 6);
    CHECK(memcmp(mem_ptr(&mem, DATA_GPA, 5, false), "swede", 5) == 0);
    CHECK_EQ(*(uint8_t *)mem_ptr(&mem, DATA_GPA + 5, 1, false), 0xaa);
    teardown();
}

TEST(discard_and_write_zeroes)
{
    if (!setup("discard=unmap")) {
        CHECK(0);
        return;
    }
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 8, 16, 0), VIRTIO_BLK_S_OK);
    CHECK(file_is_zero(8 * 512, 16 * 512)); /* ext4/tmpfs punch holes */
    CHECK(file_is_pattern(7 * 512, 512));
    CHECK(file_is_pattern(24 * 512, 512));

    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 100, 3, 0), VIRTIO_BLK_S_OK);
    CHECK(file_is_zero(100 * 512, 3 * 512));
    CHECK(file_is_pattern(99 * 512, 512));
    CHECK(file_is_pattern(103 * 512, 512));
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 200, 1,
                     VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
             VIRTIO_BLK_S_OK);
    CHECK(file_is_zero(200 * 512, 512));
    CHECK(file_is_pattern(201 * 512, 512));
    /* The last sector exactly. */
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, DISK_SECTORS - 1, 1, 0),
             VIRTIO_BLK_S_OK);
    CHECK(file_is_zero(DISK_SIZE - 512, 512));

    /* Hostile segments. */
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 300, 1, 1), VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 300, 1, 6),
             VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, DISK_SECTORS, 1, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, DISK_SECTORS - 1, 2, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, UINT64_MAX, 2, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 0, 0xffffffffu, 0),
             VIRTIO_BLK_S_IOERR);
    CHECK(file_is_pattern(DISK_SIZE - 2 * 512, 512));
    CHECK(file_is_pattern(300 * 512, 512));

    /* Two segments: more than max_discard_seg. */
    struct virtio_blk_discard_write_zeroes seg[2] = {
        { .sector = htole64(400), .num_sectors = htole32(1) },
        { .sector = htole64(402), .num_sectors = htole32(1) },
    };
    put_hdr(HDR_GPA, VIRTIO_BLK_T_DISCARD, 0);
    mem_write(&mem, HDR_GPA + 16, seg, sizeof(seg));
    struct vd_buf b[2] = { { HDR_GPA, 48, false }, { STATUS_GPA, 1, true } };
    CHECK_EQ(submit(&q[0], b, 2, NULL), VIRTIO_BLK_S_UNSUPP);
    /* A partial segment. */
    b[0].len = 16 + 8;
    CHECK_EQ(submit(&q[0], b, 2, NULL), VIRTIO_BLK_S_IOERR);
    CHECK(file_is_pattern(400 * 512, 3 * 512));
    teardown();
}

TEST(discard_ignored_and_zero_fallback)
{
    if (!setup("discard=ignore")) {
        CHECK(0);
        return;
    }
    /* discard=ignore: succeeds, data stays. */
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 8, 16, 0), VIRTIO_BLK_S_OK);
    CHECK(file_is_pattern(8 * 512, 16 * 512));
    /* Write-zeroes still zeroes. */
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 8, 1024, 0), VIRTIO_BLK_S_OK);
    CHECK(file_is_zero(8 * 512, 1024 * 512));
    teardown();
}

TEST(out_of_range)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    uint64_t before = log_guest_count();
    fill(DATA_GPA, 4096, 9);
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, DISK_SECTORS, DATA_GPA, 512, NULL),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, DATA_GPA, 1024, NULL),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, UINT64_MAX, DATA_GPA, 512, NULL),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, UINT64_MAX / 512 + 1, DATA_GPA, 512, NULL),
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 5, DATA_GPA, 500, NULL), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 5, DATA_GPA, 513, NULL), VIRTIO_BLK_S_IOERR);
    CHECK(file_is_pattern(0, DISK_SIZE));
    CHECK(log_guest_count() >= before + 6);
    /* The last sector is fine. */
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, DATA_GPA, 512, NULL),
             VIRTIO_BLK_S_OK);
    teardown();
}

TEST(read_only_drive)
{
    if (!setup("readonly=on")) {
        CHECK(0);
        return;
    }
    CHECK(d->features & (1ull << VIRTIO_BLK_F_RO));
    fill(DATA_GPA, 1024, 3);
    CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 0, DATA_GPA, 1024, NULL), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0), VIRTIO_BLK_S_IOERR);
    CHECK(file_is_pattern(0, DISK_SIZE));
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, DATA_GPA, 1024, NULL), VIRTIO_BLK_S_OK);
    CHECK_EQ(*(uint8_t *)mem_ptr(&mem, DATA_GPA, 1, false), pattern_byte(0));
    CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 0, NULL), VIRTIO_BLK_S_OK);
    /* The backend refuses writes on its own too. */
    struct iovec iov = { mem_ptr(&mem, DATA_GPA, 512, false), 512 };
    CHECK_EQ(blk_backend_writev(blk, 0, &iov, 1, NULL, NULL), -EROFS);
    teardown();
}

TEST(malformed_requests)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    /* Unknown types: UNSUPP. */
    CHECK_EQ(rw(VIRTIO_BLK_T_SCSI_CMD, 0, DATA_GPA, 0, NULL),
             VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(rw(0x12345, 0, DATA_GPA, 0, NULL), VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(rw(VIRTIO_BLK_T_SECURE_ERASE, 0, DATA_GPA, 0, NULL),
             VIRTIO_BLK_S_UNSUPP);
    /* Header too short: IOERR. */
    put_hdr(HDR_GPA, VIRTIO_BLK_T_OUT, 0);
    struct vd_buf b[2] = { { HDR_GPA, 8, false }, { STATUS_GPA, 1, true } };
    CHECK_EQ(submit(&q[0], b, 2, NULL), VIRTIO_BLK_S_IOERR);
    /* No header at all. */
    CHECK_EQ(submit(&q[0], &b[1], 1, NULL), VIRTIO_BLK_S_IOERR);
    CHECK(file_is_pattern(0, DISK_SIZE));
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));

    /* No status byte: nothing to report into; the device needs reset. */
    b[0].len = 16;
    fill(DATA_GPA, 512, 5);
    struct vd_buf c[2] = { { HDR_GPA, 16, false }, { DATA_GPA, 512, false } };
    uint16_t h = vd_post(&q[0], c, 2);
    vd_notify(&q[0]);
    uint32_t id = 0, len = 0;
    CHECK(vd_used(&q[0], &id, &len));
    CHECK_EQ(id, h);
    CHECK_EQ(len, 0);
    CHECK(d->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    CHECK(file_is_pattern(0, DISK_SIZE));
    /* Reset recovers. */
    CHECK(vd_features(d, ~0ull));
    CHECK(vd_queue(&q[0], d, 0, 16));
    vd_driver_ok(d);
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 0, DATA_GPA, 512, NULL), VIRTIO_BLK_S_OK);
    teardown();
}

TEST(several_queues)
{
    struct virtio_blk_conf conf = { .num_queues = 4, .queue_size = 64 };
    if (!setup_conf("", &conf)) {
        CHECK(0);
        return;
    }
    CHECK(d->features & (1ull << VIRTIO_BLK_F_MQ));
    CHECK(!(d->features & (1ull << VIRTIO_BLK_F_DISCARD)));
    struct virtio_blk_config c;
    vd_cfg_read(d, 0, &c, sizeof(c));
    CHECK_EQ(le16toh(c.num_queues), 4);
    CHECK_EQ(le32toh(c.seg_max), 62);

    /* One write on each queue, all in flight together. */
    uint16_t heads[4];
    for (unsigned i = 0; i < 4; i++) {
        uint64_t base = DATA_GPA + i * 0x2000;
        put_hdr(base, VIRTIO_BLK_T_OUT, 50 + i);
        fill(base + 0x100, 512, (uint8_t)(i * 40));
        mem_write(&mem, base + 0x400, &(uint8_t){ 0xff }, 1);
        struct vd_buf b[3] = { { base, 16, false },
                               { base + 0x100, 512, false },
                               { base + 0x400, 1, true } };
        heads[i] = vd_post(&q[i], b, 3);
    }
    for (unsigned i = 4; i-- > 0;) {
        vd_notify(&q[i]);
    }
    for (unsigned i = 0; i < 4; i++) {
        uint32_t id = 0, len = 0;
        uint64_t base = DATA_GPA + i * 0x2000;
        CHECK(wait_used(&q[i], &id, &len));
        CHECK_EQ(id, heads[i]);
        CHECK_EQ(status_at(base + 0x400), VIRTIO_BLK_S_OK);
        uint8_t fb[512];
        CHECK(file_bytes((50 + i) * 512, fb, 512));
        CHECK(memcmp(fb, mem_ptr(&mem, base + 0x100, 512, false), 512) == 0);
    }
    /* Discard not offered: UNSUPP. */
    CHECK_EQ(seg_req(VIRTIO_BLK_T_DISCARD, 0, 1, 0), VIRTIO_BLK_S_UNSUPP);
    teardown();
}

TEST(reset_with_io_in_flight)
{
    if (!setup("")) {
        CHECK(0);
        return;
    }
    put_hdr(HDR_GPA, VIRTIO_BLK_T_IN, 0);
    mem_write(&mem, STATUS_GPA, &(uint8_t){ 0xff }, 1);
    struct vd_buf b[3] = { { HDR_GPA, 16, false },
                           { DATA_GPA, 65536, true },
                           { STATUS_GPA, 1, true } };
    vd_post(&q[0], b, 3);
    vd_notify(&q[0]);
    dev_lock();
    virtio_set_status(d, 0); /* reset before the completion is delivered */
    dev_unlock();
    run_loop_ms(20);
    CHECK_EQ(status_at(STATUS_GPA), 0xff); /* old generation: not written */
    /* The device works after the reset. */
    CHECK(vd_features(d, ~0ull));
    CHECK(vd_queue(&q[0], d, 0, 16));
    vd_driver_ok(d);
    CHECK_EQ(rw(VIRTIO_BLK_T_IN, 1, DATA_GPA, 512, NULL), VIRTIO_BLK_S_OK);
    /* And a device freed with I/O in flight leaks nothing (ASan). */
    put_hdr(HDR_GPA, VIRTIO_BLK_T_IN, 0);
    vd_post(&q[0], b, 3);
    vd_notify(&q[0]);
    teardown();
}

TEST(cache_modes)
{
    static const char *const modes[] = {
        "cache=writeback", "cache=writethrough", "cache=unsafe",
        "cache=none",      "cache=directsync",
    };
    for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        if (!setup(modes[m])) {
            /* O_DIRECT may be refused by the filesystem: a clear error. */
            CHECK(m >= 3);
            unlink(path);
            mem_free(&mem);
            continue;
        }
        fill(DATA_GPA + 1, 1024, (uint8_t)m); /* misaligned: bounced */
        CHECK_EQ(rw(VIRTIO_BLK_T_OUT, 30, DATA_GPA + 1, 1024, NULL),
                 VIRTIO_BLK_S_OK);
        CHECK_EQ(rw(VIRTIO_BLK_T_FLUSH, 0, DATA_GPA, 0, NULL), VIRTIO_BLK_S_OK);
        uint8_t fb[1024];
        CHECK(file_bytes(30 * 512, fb, 1024));
        CHECK(memcmp(fb, mem_ptr(&mem, DATA_GPA + 1, 1024, false), 1024) == 0);
        memset(mem_ptr(&mem, DATA2_GPA, 4096, true), 0, 4096);
        CHECK_EQ(rw(VIRTIO_BLK_T_IN, 30, DATA2_GPA + 3, 1024, NULL),
                 VIRTIO_BLK_S_OK);
        CHECK(memcmp(fb, mem_ptr(&mem, DATA2_GPA + 3, 1024, false), 1024) == 0);
        CHECK_EQ(rw(VIRTIO_BLK_T_IN, 30, DATA2_GPA, 1024, NULL),
                 VIRTIO_BLK_S_OK);
        CHECK(memcmp(fb, mem_ptr(&mem, DATA2_GPA, 1024, false), 1024) == 0);
        CHECK_EQ(seg_req(VIRTIO_BLK_T_WRITE_ZEROES, 30, 1, 0), VIRTIO_BLK_S_OK);
        CHECK(file_is_zero(30 * 512, 512));
        teardown();
    }
}

/* Direct backend use: the order callbacks ran in. */
static int order[64];
static unsigned norder;

static void order_cb(void *opaque, int ret)
{
    CHECK_EQ(ret, 0);
    if (norder < 64) {
        order[norder++] = (int)(intptr_t)opaque;
    }
}

/* n reads of len bytes each into iov[i] from offset i * len; the
 * callback order starts afresh. */
static void submit_reads(struct blk_backend *b, struct iovec *iov, unsigned n,
                         size_t len)
{
    norder = 0;
    for (unsigned i = 0; i < n; i++) {
        CHECK_EQ(blk_backend_readv(b, (uint64_t)i * len, &iov[i], 1, order_cb,
                                   (void *)(intptr_t)i),
                 0);
    }
}

TEST(backend_order)
{
    enum {
        NW = 32,
        WLEN = 8192
    };
    struct error err = { 0 };
    make_disk();
    struct blk_backend *b = open_drive("", &err);
    CHECK(b != NULL);
    if (!b) {
        unlink(path);
        return;
    }
    static uint8_t buf[NW][WLEN];
    struct iovec iov[NW];
    norder = 0;
    /* Writes, then a flush: the flush completes after all of them, and
     * nothing completes inside a submitting call. */
    for (unsigned i = 0; i < NW; i++) {
        memset(buf[i], 0x80 + i, WLEN);
        iov[i] = (struct iovec){ buf[i], WLEN };
        CHECK_EQ(blk_backend_writev(b, (uint64_t)i * WLEN, &iov[i], 1, order_cb,
                                    (void *)(intptr_t)i),
                 0);
    }
    CHECK_EQ(blk_backend_flush(b, order_cb, (void *)(intptr_t)100), 0);
    CHECK_EQ(norder, 0);
    uint64_t end = loop_now_ns() + 5000 * MS;
    while (norder < NW + 1 && loop_now_ns() < end) {
        run_loop_ms(1);
    }
    CHECK_EQ(norder, NW + 1);
    CHECK_EQ(order[NW], 100);
    for (unsigned i = 0; i < NW; i++) {
        uint8_t fb[WLEN];
        CHECK(file_bytes((uint64_t)i * WLEN, fb, WLEN));
        CHECK(memcmp(fb, buf[i], WLEN) == 0);
    }
    /* drain: nothing in flight afterwards, callbacks still from poll. */
    submit_reads(b, iov, 8, WLEN);
    blk_backend_drain(b);
    CHECK_EQ(norder, 0);
    blk_backend_poll(b);
    CHECK_EQ(norder, 8);
    /* forget: pending callbacks dropped unrun. */
    submit_reads(b, iov, 8, WLEN);
    blk_backend_forget(b);
    blk_backend_poll(b);
    run_loop_ms(5);
    CHECK_EQ(norder, 0);
    blk_backend_close(b);
    unlink(path);
}

static bool open_fails(const char *s, const char *want)
{
    struct opts o = { 0 };
    struct error err = { 0 };
    if (opts_parse(&o, s, NULL, "-drive", &err) < 0) {
        return false;
    }
    struct blk_backend *b = blk_backend_open(&o, &err);
    opts_free(&o);
    if (b) {
        blk_backend_close(b);
        return false;
    }
    if (!strstr(err.msg, want)) {
        printf("  '%s': message '%s' lacks '%s'\n", s, err.msg, want);
        return false;
    }
    return true;
}

TEST(drive_option_errors)
{
    make_disk();
    char s[256];
    snprintf(s, sizeof(s), "file=%s,id=a,bogus=1", path);
    CHECK(open_fails(s, "bogus"));
    snprintf(s, sizeof(s), "file=%s,id=a,format=qcow2", path);
    CHECK(open_fails(s, "format=qcow2"));
    snprintf(s, sizeof(s), "file=%s,id=a,aio=native", path);
    CHECK(open_fails(s, "aio=native"));
    snprintf(s, sizeof(s), "file=%s,id=a,aio=posix", path);
    CHECK(open_fails(s, "aio=posix"));
    snprintf(s, sizeof(s), "file=%s,id=a,cache=fast", path);
    CHECK(open_fails(s, "cache=fast"));
    snprintf(s, sizeof(s), "file=%s,id=a,discard=maybe", path);
    CHECK(open_fails(s, "discard=maybe"));
    snprintf(s, sizeof(s), "file=%s,id=a,if=ide", path);
    CHECK(open_fails(s, "if=ide"));
    snprintf(s, sizeof(s), "file=%s", path);
    CHECK(open_fails(s, "id="));
    CHECK(open_fails("id=a,format=raw", "file="));
    CHECK(
        open_fails("file=/nonexistent/disk.img,id=a", "/nonexistent/disk.img"));
    /* A second writer of the same image is refused. */
    struct error err = { 0 };
    struct blk_backend *b1 = open_drive("", &err);
    CHECK(b1 != NULL);
    snprintf(s, sizeof(s), "file=%s,id=b", path);
    CHECK(open_fails(s, "lock"));
    blk_backend_close(b1);
    unlink(path);
}

/* The conformance suite's device: two queues over a fresh image. */
static struct blk_backend *conf_blk;

static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    struct error err = { 0 };
    struct virtio_blk_conf conf = { .num_queues = 2,
                                    .queue_size = 256,
                                    .serial = "conf",
                                    .discard = true,
                                    .write_zeroes = true };
    (void)arg;
    make_disk();
    conf_blk = open_drive("discard=unmap", &err);
    CHECK(conf_blk != NULL);
    struct virtio_blk *s = virtio_blk_new(m, conf_blk, &conf, &err);
    CHECK(s != NULL);
    return virtio_blk_vdev(s);
}

static void conf_destroy(struct virtio_dev *dd)
{
    virtio_blk_free(dd->opaque);
    blk_backend_close(conf_blk);
    conf_blk = NULL;
    unlink(path);
}

static void conf_poll(struct virtio_dev *dd)
{
    (void)dd;
    blk_backend_drain(conf_blk);
    blk_backend_poll(conf_blk);
}

TEST(conformance)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    make_disk();
    struct blk_backend *b = open_drive("", &err);
    struct virtio_blk_conf conf = { .num_queues = 1, .queue_size = 16 };
    struct virtio_blk *s = virtio_blk_new(&mem, b, &conf, &err);
    struct vconf_device cd = {
        .ops = virtio_blk_vdev(s)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
        .poll = conf_poll,
    };
    virtio_blk_free(s);
    blk_backend_close(b);
    unlink(path);
    mem_free(&mem);
    vconf_run(&cd);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    static const char *const aio_modes[] = { "io_uring", "threads" };
    for (unsigned m = 0; m < sizeof(aio_modes) / sizeof(aio_modes[0]); m++) {
        aio_mode = aio_modes[m];
        printf("# aio=%s\n", aio_mode);
        RUN(identity_and_config);
        RUN(read_write_round_trip);
        RUN(flush_and_get_id);
        RUN(discard_and_write_zeroes);
        RUN(discard_ignored_and_zero_fallback);
        RUN(out_of_range);
        RUN(read_only_drive);
        RUN(malformed_requests);
        RUN(several_queues);
        RUN(reset_with_io_in_flight);
        RUN(cache_modes);
        RUN(backend_order);
        RUN(conformance);
    }
    RUN(drive_option_errors);
    HARNESS_END();
}
