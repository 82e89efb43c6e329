/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu-device tests on fake guest RAM, driving the control and
 * cursor queues as the Linux driver does: the whole 2D path (create,
 * scattered backing, transfer, set_scanout, flush) checked pixel by pixel
 * on the console the device feeds; GET_DISPLAY_INFO and GET_EDID (EDID
 * 1.4 structure, checksum, preferred timing) from the configured and the
 * requested head sizes; the error answers for bad ids, rectangles,
 * backing, sizes, formats, entry counts, short requests and short
 * response buffers; fences; the display-change event; max_hostmem;
 * cursors; reset; the -device properties; and the shared virtio
 * conformance suite over a virtio-mmio transport.
 */
#include <endian.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <stddef.h>
#include <string.h>

#include "board/board.h"
#include "core/error.h"
#include "core/options.h"
#include "gfx/gfx.h"
#include "harness.h"
#include "hw/virtio/gpu/gpu.h"
#include "ui/console.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

#define OK          VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC    VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM       VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCANOUT   VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RESOURCE  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAMETER VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define FMT_BGRX    VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define FMT_BGRA    VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM

/* Guest buffers, after the rings (vdev_driver.h). */
#define REQ_GPA  (VD_DATA_BASE)
#define RESP_GPA (VD_DATA_BASE + 0x40000)
#define BACK_GPA (VD_DATA_BASE + 0x80000)

static struct mem_map mem;
static struct virtio_gpu *gpu;
static struct virtio_dev *d;
static struct vd_queue ctrlq, curq;

static struct virtio_gpu_conf default_conf(void)
{
    return (struct virtio_gpu_conf){
        .max_outputs = 1,
        .xres = VIRTIO_GPU_DEFAULT_XRES,
        .yres = VIRTIO_GPU_DEFAULT_YRES,
        .edid = true,
        .max_hostmem = 256ull << 20,
        .dev_id = "gpu0",
    };
}

static void setup_conf(const struct virtio_gpu_conf *conf, uint64_t features)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    gpu = virtio_gpu_new(&mem, conf, &err);
    CHECK(gpu != NULL);
    d = virtio_gpu_vdev(gpu);
    CHECK(vd_features(d, features));
    CHECK(vd_queue(&ctrlq, d, 0, 64));
    CHECK(vd_queue(&curq, d, 1, 16));
    vd_driver_ok(d);
}

static void setup(void)
{
    struct virtio_gpu_conf conf = default_conf();
    setup_conf(&conf, 1ull << VIRTIO_GPU_F_EDID);
}

static void teardown(void)
{
    virtio_gpu_free(gpu);
    mem_free(&mem);
    ui_shutdown();
}

static struct ui_console *console(uint32_t head)
{
    struct error err = { 0 };
    struct ui_console *c = ui_console_find("gpu0", head, &err);
    CHECK(c != NULL);
    return c;
}

/* Post a request of len bytes (from req) and a response buffer of
 * resp_len bytes on the control queue; returns the used length and
 * copies the response buffer into resp. */
static uint32_t cmd_raw(const void *req, uint32_t len, void *resp,
                        uint32_t resp_len)
{
    static uint8_t junk[2048];
    memset(junk, 0xee, sizeof(junk));
    mem_write(&mem, REQ_GPA, req, len);
    mem_write(&mem, RESP_GPA, junk, sizeof(junk));
    struct vd_buf b[2] = {
        { REQ_GPA, len, false },
        { RESP_GPA, resp_len, true },
    };
    vd_post(&ctrlq, b, 2);
    vd_notify(&ctrlq);
    uint32_t id = 0, used = 0xffffffff;
    CHECK(vd_used(&ctrlq, &id, &used));
    CHECK(!vd_used(&ctrlq, NULL, NULL));
    if (resp) {
        mem_read(&mem, RESP_GPA, resp, resp_len);
    }
    return used;
}

/* Send a request with a header-sized response buffer; the response type. */
static uint32_t cmd(const void *req, uint32_t len)
{
    struct virtio_gpu_ctrl_hdr h;
    CHECK_EQ(cmd_raw(req, len, &h, sizeof(h)), sizeof(h));
    return le32toh(h.type);
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
    return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type) };
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w,
                                   uint32_t h)
{
    return (struct virtio_gpu_rect){ htole32(x), htole32(y), htole32(w),
                                     htole32(h) };
}

static uint32_t create_2d(uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
    struct virtio_gpu_resource_create_2d c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
        .resource_id = htole32(id),
        .format = htole32(fmt),
        .width = htole32(w),
        .height = htole32(h),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t unref(uint32_t id)
{
    struct virtio_gpu_resource_unref c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

struct entry {
    uint64_t gpa;
    uint32_t len;
};

/* RESOURCE_ATTACH_BACKING saying nr entries, carrying the first `given`
 * of e. */
static uint32_t attach_n(uint32_t id, uint32_t nr, const struct entry *e,
                         uint32_t given)
{
    static uint8_t buf[sizeof(struct virtio_gpu_resource_attach_backing) +
                       64 * sizeof(struct virtio_gpu_mem_entry)];
    struct virtio_gpu_resource_attach_backing c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
        .resource_id = htole32(id),
        .nr_entries = htole32(nr),
    };
    CHECK(given <= 64);
    memcpy(buf, &c, sizeof(c));
    for (uint32_t i = 0; i < given; i++) {
        struct virtio_gpu_mem_entry m = {
            .addr = htole64(e[i].gpa),
            .length = htole32(e[i].len),
        };
        memcpy(buf + sizeof(c) + i * sizeof(m), &m, sizeof(m));
    }
    return cmd(buf, (uint32_t)(sizeof(c) + given * 16));
}

static uint32_t attach(uint32_t id, const struct entry *e, uint32_t n)
{
    return attach_n(id, n, e, n);
}

static uint32_t detach(uint32_t id)
{
    struct virtio_gpu_resource_detach_backing c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t transfer(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                         uint32_t h, uint64_t off)
{
    struct virtio_gpu_transfer_to_host_2d c = {
        .hdr = hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D),
        .r = rect(x, y, w, h),
        .offset = htole64(off),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t set_scanout(uint32_t scanout, uint32_t id, uint32_t x,
                            uint32_t y, uint32_t w, uint32_t h)
{
    struct virtio_gpu_set_scanout c = {
        .hdr = hdr(VIRTIO_GPU_CMD_SET_SCANOUT),
        .r = rect(x, y, w, h),
        .scanout_id = htole32(scanout),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t flush(uint32_t id, uint32_t x, uint32_t y, uint32_t w,
                      uint32_t h)
{
    struct virtio_gpu_resource_flush c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH),
        .r = rect(x, y, w, h),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static void display_info(struct virtio_gpu_resp_display_info *di)
{
    struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    CHECK_EQ(cmd_raw(&c, sizeof(c), di, sizeof(*di)), sizeof(*di));
    CHECK_EQ(le32toh(di->hdr.type), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
}

/* GET_EDID for scanout n: the response type (the EDID in *r). */
static uint32_t get_edid(uint32_t n, struct virtio_gpu_resp_edid *r)
{
    struct virtio_gpu_cmd_get_edid c = {
        .hdr = hdr(VIRTIO_GPU_CMD_GET_EDID),
        .scanout = htole32(n),
    };
    uint32_t used = cmd_raw(&c, sizeof(c), r, sizeof(*r));
    uint32_t type = le32toh(r->hdr.type);
    CHECK_EQ(used, type == VIRTIO_GPU_RESP_OK_EDID
                       ? sizeof(*r)
                       : sizeof(struct virtio_gpu_ctrl_hdr));
    return type;
}

static uint32_t cfg32(uint32_t off)
{
    uint32_t v = 0;
    vd_cfg_read(d, off, &v, 4);
    return le32toh(v);
}

/* A distinct colour per pixel (0xffRRGGBB). */
static uint32_t pix(uint32_t x, uint32_t y, uint32_t salt)
{
    return 0xff000000u | ((x * 7 + y * 131 + salt * 0x10101) & 0xffffff);
}

/* Backing of a w-wide resource split into pieces at the given gpas (each
 * `piece` bytes): the gpa of byte `off`. */
static uint64_t back_gpa(const struct entry *e, uint32_t piece, uint64_t off)
{
    return e[off / piece].gpa + off % piece;
}

static void fill(const struct entry *e, uint32_t piece, uint32_t w, uint32_t x0,
                 uint32_t y0, uint32_t x1, uint32_t y1, uint32_t salt)
{
    for (uint32_t y = y0; y < y1; y++) {
        for (uint32_t x = x0; x < x1; x++) {
            uint32_t v = htole32(pix(x, y, salt));
            mem_write(&mem, back_gpa(e, piece, (uint64_t)(y * w + x) * 4), &v,
                      4);
        }
    }
}

static uint32_t px(pixman_image_t *img, int x, int y)
{
    uint32_t *p = pixman_image_get_data(img);
    return p[y * (pixman_image_get_stride(img) / 4) + x] & 0xffffff;
}

/* ---- tests ---- */

TEST(display_info_and_config)
{
    struct virtio_gpu_conf conf = default_conf();
    conf.max_outputs = 2;
    conf.xres = 1024;
    conf.yres = 768;
    setup_conf(&conf, 1ull << VIRTIO_GPU_F_EDID);
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_GPU);
    CHECK(strcmp(d->ops->name, "virtio-gpu-device") == 0);
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_EDID));
    CHECK(!(d->host_features & (1ull << VIRTIO_GPU_F_VIRGL)));
    CHECK(!(d->host_features & (1ull << VIRTIO_GPU_F_RESOURCE_BLOB)));
    CHECK(!(d->host_features & (1ull << VIRTIO_GPU_F_CONTEXT_INIT)));
    CHECK(d->features & (1ull << VIRTIO_GPU_F_EDID));

    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, events_read)), 0);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, events_clear)), 0);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_scanouts)), 2);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_capsets)), 0);
    /* num_scanouts is read-only. */
    uint32_t v = htole32(7);
    vd_cfg_write(d, offsetof(struct virtio_gpu_config, num_scanouts), &v, 4);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_scanouts)), 2);

    struct virtio_gpu_resp_display_info di;
    display_info(&di);
    CHECK_EQ(di.hdr.flags, 0);
    CHECK_EQ(le32toh(di.pmodes[0].r.x), 0);
    CHECK_EQ(le32toh(di.pmodes[0].r.y), 0);
    CHECK_EQ(le32toh(di.pmodes[0].r.width), 1024);
    CHECK_EQ(le32toh(di.pmodes[0].r.height), 768);
    CHECK_EQ(le32toh(di.pmodes[0].enabled), 1);
    /* As QEMU: the other heads start disabled. */
    for (int i = 1; i < VIRTIO_GPU_MAX_SCANOUTS; i++) {
        CHECK_EQ(le32toh(di.pmodes[i].enabled), 0);
        CHECK_EQ(le32toh(di.pmodes[i].r.width), 0);
    }
    /* Consoles exist for both heads, disabled until a scanout is set. */
    uint32_t w = 1, h = 1;
    ui_console_size(console(0), &w, &h);
    CHECK_EQ(w, 0);
    CHECK(console(1) != NULL);
    CHECK(ui_console_snapshot(console(0)) == NULL);
    teardown();

    /* edid=off: not offered, and GET_EDID is refused. */
    conf = default_conf();
    conf.edid = false;
    setup_conf(&conf, 1ull << VIRTIO_GPU_F_EDID);
    CHECK(!(d->host_features & (1ull << VIRTIO_GPU_F_EDID)));
    struct virtio_gpu_resp_edid e;
    CHECK_EQ(get_edid(0, &e), E_UNSPEC);
    teardown();

    /* edid=on but the driver did not accept it. */
    conf = default_conf();
    setup_conf(&conf, 0);
    CHECK_EQ(get_edid(0, &e), E_UNSPEC);
    teardown();
}

TEST(full_2d_sequence)
{
    setup();
    struct ui_console *con = console(0);
    /* 64x32 BGRX in two 4 KiB pieces far apart in guest RAM. */
    const uint32_t W = 64, H = 32, piece = 4096;
    struct entry e[2] = { { BACK_GPA + 0x10000, piece }, { BACK_GPA, piece } };
    fill(e, piece, W, 0, 0, W, H, 0);
    CHECK_EQ(create_2d(1, FMT_BGRX, W, H), OK);
    CHECK_EQ(attach(1, e, 2), OK);
    CHECK_EQ(transfer(1, 0, 0, W, H, 0), OK);
    CHECK_EQ(set_scanout(0, 1, 8, 4, 32, 16), OK);
    CHECK_EQ(flush(1, 0, 0, W, H), OK);

    uint32_t cw = 0, ch = 0;
    ui_console_size(con, &cw, &ch);
    CHECK_EQ(cw, 32);
    CHECK_EQ(ch, 16);
    pixman_image_t *snap = ui_console_snapshot(con);
    CHECK(snap != NULL);
    int bad = 0;
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 32; x++) {
            bad += px(snap, x, y) != (pix(x + 8, y + 4, 0) & 0xffffff);
        }
    }
    CHECK_EQ(bad, 0);
    pixman_image_unref(snap);

    /* New pixels in 10..20 x 6..10: a transfer alone does not show them,
     * the flush does, and only there. */
    fill(e, piece, W, 10, 6, 20, 10, 1);
    CHECK_EQ(transfer(1, 10, 6, 10, 4, (6 * W + 10) * 4), OK);
    snap = ui_console_snapshot(con);
    CHECK_EQ(px(snap, 10 - 8, 6 - 4), pix(10, 6, 0) & 0xffffff);
    pixman_image_unref(snap);
    CHECK_EQ(flush(1, 10, 6, 10, 4), OK);
    snap = ui_console_snapshot(con);
    bad = 0;
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 32; x++) {
            uint32_t rx = x + 8, ry = y + 4;
            bool in = rx >= 10 && rx < 20 && ry >= 6 && ry < 10;
            bad += px(snap, x, y) != (pix(rx, ry, in ? 1 : 0) & 0xffffff);
        }
    }
    CHECK_EQ(bad, 0);
    pixman_image_unref(snap);

    /* A second resource of another size on the same scanout resizes. */
    struct entry e2 = { BACK_GPA + 0x20000, 16 * 8 * 4 };
    fill(&e2, 16 * 8 * 4, 16, 0, 0, 16, 8, 2);
    CHECK_EQ(create_2d(2, FMT_BGRA, 16, 8), OK);
    CHECK_EQ(attach(2, &e2, 1), OK);
    CHECK_EQ(transfer(2, 0, 0, 16, 8, 0), OK);
    CHECK_EQ(set_scanout(0, 2, 0, 0, 16, 8), OK);
    ui_console_size(con, &cw, &ch);
    CHECK_EQ(cw, 16);
    CHECK_EQ(ch, 8);
    snap = ui_console_snapshot(con);
    CHECK_EQ(px(snap, 15, 7), pix(15, 7, 2) & 0xffffff);
    pixman_image_unref(snap);
    /* Flushing resource 1 no longer touches the console. */
    fill(e, piece, W, 0, 0, W, H, 3);
    CHECK_EQ(transfer(1, 0, 0, W, H, 0), OK);
    CHECK_EQ(flush(1, 0, 0, W, H), OK);
    snap = ui_console_snapshot(con);
    CHECK_EQ(px(snap, 0, 0), pix(0, 0, 2) & 0xffffff);
    pixman_image_unref(snap);

    /* Unref of the shown resource disables the console; so does
     * resource 0. */
    CHECK_EQ(unref(2), OK);
    CHECK(ui_console_snapshot(con) == NULL);
    CHECK_EQ(set_scanout(0, 1, 0, 0, W, H), OK);
    ui_console_size(con, &cw, &ch);
    CHECK_EQ(cw, W);
    CHECK_EQ(set_scanout(0, 0, 0, 0, 0, 0), OK);
    ui_console_size(con, &cw, &ch);
    CHECK_EQ(cw, 0);
    CHECK_EQ(ch, 0);
    CHECK_EQ(detach(1), OK);
    CHECK_EQ(unref(1), OK);
    teardown();
}

static void check_edid_block(const uint8_t *b, uint32_t w, uint32_t h)
{
    static const uint8_t magic[8] = {
        0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0
    };
    CHECK(memcmp(b, magic, 8) == 0);
    CHECK_EQ(b[18], 1);
    CHECK_EQ(b[19], 4);
    CHECK(b[20] & 0x80); /* digital input */
    CHECK(b[24] & 0x02); /* preferred timing in the first descriptor */
    CHECK_EQ(b[126], 0); /* no extensions */
    uint8_t sum = 0;
    for (int i = 0; i < 128; i++) {
        sum = (uint8_t)(sum + b[i]);
    }
    CHECK_EQ(sum, 0);
    const uint8_t *t = b + 54;
    uint32_t clock = t[0] | t[1] << 8; /* 10 kHz */
    uint32_t ha = t[2] | (t[4] & 0xf0) << 4, hb = t[3] | (t[4] & 0x0f) << 8;
    uint32_t va = t[5] | (t[7] & 0xf0) << 4, vb = t[6] | (t[7] & 0x0f) << 8;
    CHECK(clock != 0);
    CHECK_EQ(ha, w);
    CHECK_EQ(va, h);
    uint32_t hfp = t[8] | (t[11] & 0xc0) << 2, hs = t[9] | (t[11] & 0x30) << 4;
    uint32_t vfp = (t[10] >> 4) | (t[11] & 0x0c) << 2;
    uint32_t vs = (t[10] & 0xf) | (t[11] & 0x03) << 4;
    CHECK(hfp + hs <= hb);
    CHECK(vfp + vs <= vb);
    /* 60 Hz, or less where the clock would not fit 16 bits; the clock
     * is rounded up to 10 kHz, which shows on tiny modes. */
    uint64_t frame = (uint64_t)(ha + hb) * (va + vb);
    double hz = clock * 10000.0 / (double)frame;
    CHECK(hz >= 1 && hz < 64);
    if (w * h <= 1920 * 1200 && frame >= 100000) {
        CHECK(hz > 59.9 && hz < 60.1);
    }
    if (w * h > 3840 * 2160) {
        CHECK(hz <= 60);
    }
    /* Every other descriptor is a display descriptor (clock 0); the
     * monitor name is there. */
    bool name = false;
    for (int k = 1; k < 4; k++) {
        const uint8_t *dd = b + 54 + 18 * k;
        CHECK_EQ(dd[0] | dd[1], 0);
        name |= dd[3] == 0xfc && memcmp(dd + 5, "QEMU Monitor\n", 13) == 0;
    }
    CHECK(name);
}

TEST(edid)
{
    struct virtio_gpu_conf conf = default_conf();
    conf.max_outputs = 2;
    setup_conf(&conf, 1ull << VIRTIO_GPU_F_EDID);
    struct virtio_gpu_resp_edid r;
    CHECK_EQ(get_edid(0, &r), VIRTIO_GPU_RESP_OK_EDID);
    CHECK_EQ(le32toh(r.size), 128);
    check_edid_block(r.edid, 1280, 800);
    for (int i = 128; i < 1024; i++) {
        CHECK_EQ(r.edid[i], 0);
    }
    /* A disabled head reports its size too (QEMU does the same). */
    CHECK_EQ(get_edid(1, &r), VIRTIO_GPU_RESP_OK_EDID);
    check_edid_block(r.edid, 1280, 800);
    CHECK_EQ(get_edid(2, &r), E_PARAMETER);
    CHECK_EQ(get_edid(0xffffffff, &r), E_PARAMETER);
    /* The response buffer must hold the whole answer. */
    struct virtio_gpu_cmd_get_edid c = {
        .hdr = hdr(VIRTIO_GPU_CMD_GET_EDID),
    };
    CHECK_EQ(cmd_raw(&c, sizeof(c), NULL, 1000), 0);
    teardown();

    /* Sizes at the edges. */
    static const uint32_t sizes[][2] = {
        { 1, 1 },       { 640, 480 },   { 1920, 1080 },
        { 3840, 2160 }, { 4095, 4095 }, { 4095, 1 },
    };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t b[VIRTIO_GPU_EDID_SIZE];
        virtio_gpu_edid(b, sizes[i][0], sizes[i][1]);
        check_edid_block(b, sizes[i][0], sizes[i][1]);
        CHECK(b[21] != 0 && b[22] != 0);
    }
}

TEST(errors)
{
    setup();
    struct entry e = { BACK_GPA, 64 * 32 * 4 };
    CHECK_EQ(create_2d(1, FMT_BGRX, 64, 32), OK);

    /* Unknown resource ids, and id 0. */
    CHECK_EQ(flush(99, 0, 0, 1, 1), E_RESOURCE);
    CHECK_EQ(transfer(99, 0, 0, 1, 1, 0), E_RESOURCE);
    CHECK_EQ(set_scanout(0, 99, 0, 0, 1, 1), E_RESOURCE);
    CHECK_EQ(attach(99, &e, 1), E_RESOURCE);
    CHECK_EQ(detach(99), E_RESOURCE);
    CHECK_EQ(unref(99), E_RESOURCE);
    CHECK_EQ(create_2d(0, FMT_BGRX, 4, 4), E_RESOURCE);
    CHECK_EQ(create_2d(1, FMT_BGRX, 4, 4), E_RESOURCE); /* in use */

    /* No backing yet. */
    CHECK_EQ(transfer(1, 0, 0, 1, 1, 0), E_UNSPEC);
    CHECK_EQ(detach(1), E_UNSPEC);

    /* Backing outside guest RAM, across its end, wrapping. */
    struct entry out = { 0x1000, 4096 };
    CHECK_EQ(attach(1, &out, 1), E_PARAMETER);
    struct entry across = { VD_RAM_BASE + VD_RAM_SIZE - 4096, 8192 };
    CHECK_EQ(attach(1, &across, 1), E_PARAMETER);
    struct entry wrap = { 0xfffffffffffff000ull, 0x2000 };
    CHECK_EQ(attach(1, &wrap, 1), E_PARAMETER);
    struct entry mixed[2] = { e, out };
    CHECK_EQ(attach(1, mixed, 2), E_PARAMETER);

    /* Entry counts: 0, too many (refused before reading any: the chain
     * has none), and more than the chain carries. */
    CHECK_EQ(attach_n(1, 0, &e, 0), E_PARAMETER);
    CHECK_EQ(attach_n(1, GFX_MAX_BACKING_ENTRIES + 1, &e, 0), E_PARAMETER);
    CHECK_EQ(attach_n(1, 0xffffffff, &e, 1), E_PARAMETER);
    CHECK_EQ(attach_n(1, 2, &e, 1), E_UNSPEC);
    CHECK_EQ(attach(1, &e, 1), OK);
    CHECK_EQ(attach(1, &e, 1), E_UNSPEC); /* already attached */

    /* Rectangles outside the resource. */
    CHECK_EQ(transfer(1, 60, 0, 10, 10, 0), E_PARAMETER);
    CHECK_EQ(transfer(1, 0, 0xffffffff, 1, 2, 0), E_PARAMETER);
    CHECK_EQ(flush(1, 0, 30, 64, 3), E_PARAMETER);
    CHECK_EQ(set_scanout(0, 1, 1, 0, 64, 32), E_PARAMETER);
    /* A transfer reading past the backing. */
    CHECK_EQ(transfer(1, 0, 0, 64, 32, 4), E_PARAMETER);
    CHECK_EQ(transfer(1, 0, 0, 1, 1, 0xfffffffffffffffcull), E_PARAMETER);
    /* Scanout ids. */
    CHECK_EQ(set_scanout(1, 1, 0, 0, 64, 32), E_SCANOUT);
    CHECK_EQ(set_scanout(0xffffffff, 0, 0, 0, 0, 0), E_SCANOUT);

    /* Sizes: zero, width * height * 4 overflowing, formats. */
    CHECK_EQ(create_2d(2, FMT_BGRX, 0, 4), E_PARAMETER);
    CHECK_EQ(create_2d(2, FMT_BGRX, 0x40000000, 0x40000000), E_PARAMETER);
    CHECK_EQ(create_2d(2, FMT_BGRX, 0xffffffff, 2), E_PARAMETER);
    CHECK_EQ(create_2d(2, FMT_BGRX, 0x10000, 0x10000), E_PARAMETER);
    CHECK_EQ(create_2d(2, 999, 4, 4), E_PARAMETER);
    CHECK_EQ(create_2d(2, 0, 4, 4), E_PARAMETER);

    /* Unknown, 3D, blob and capset commands; cursor commands here. */
    static const uint32_t unspec[] = {
        0,
        0x0999,
        VIRTIO_GPU_CMD_GET_CAPSET_INFO,
        VIRTIO_GPU_CMD_GET_CAPSET,
        VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
        VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
        VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
        VIRTIO_GPU_CMD_CTX_CREATE,
        VIRTIO_GPU_CMD_CTX_DESTROY,
        VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
        VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
        VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
        VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
        VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
        VIRTIO_GPU_CMD_SUBMIT_3D,
        VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
        VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,
        VIRTIO_GPU_CMD_UPDATE_CURSOR,
        VIRTIO_GPU_CMD_MOVE_CURSOR,
        VIRTIO_GPU_RESP_OK_NODATA,
    };
    for (unsigned i = 0; i < sizeof(unspec) / sizeof(unspec[0]); i++) {
        uint8_t big[128] = { 0 };
        struct virtio_gpu_ctrl_hdr h = hdr(unspec[i]);
        memcpy(big, &h, sizeof(h));
        CHECK_EQ(cmd(big, sizeof(big)), E_UNSPEC);
    }
    teardown();
}

TEST(truncated)
{
    setup();
    struct virtio_gpu_resource_create_2d c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
        .resource_id = htole32(1),
        .format = htole32(FMT_BGRX),
        .width = htole32(4),
        .height = htole32(4),
    };
    /* One byte short: not run. */
    CHECK_EQ(cmd(&c, sizeof(c) - 1), E_UNSPEC);
    /* No whole header. */
    CHECK_EQ(cmd(&c, 10), E_UNSPEC);
    /* The request split over three descriptors is fine. */
    mem_write(&mem, REQ_GPA, &c, 7);
    mem_write(&mem, REQ_GPA + 0x100, (uint8_t *)&c + 7, 20);
    mem_write(&mem, REQ_GPA + 0x200, (uint8_t *)&c + 27, sizeof(c) - 27);
    struct vd_buf b[4] = {
        { REQ_GPA, 7, false },
        { REQ_GPA + 0x100, 20, false },
        { REQ_GPA + 0x200, sizeof(c) - 27, false },
        { RESP_GPA, 24, true },
    };
    vd_post(&ctrlq, b, 4);
    vd_notify(&ctrlq);
    uint32_t used = 0;
    CHECK(vd_used(&ctrlq, NULL, &used));
    CHECK_EQ(used, 24);
    struct virtio_gpu_ctrl_hdr h;
    mem_read(&mem, RESP_GPA, &h, sizeof(h));
    CHECK_EQ(le32toh(h.type), OK);
    CHECK_EQ(unref(1), OK);

    /* A response buffer too small: nothing written, used 0, not run. */
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, 23), 0);
    CHECK_EQ(h.type, 0xeeeeeeee);
    CHECK_EQ(unref(1), E_RESOURCE);
    struct virtio_gpu_resp_display_info di;
    struct virtio_gpu_ctrl_hdr q = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    CHECK_EQ(cmd_raw(&q, sizeof(q), &di, sizeof(di) - 1), 0);
    /* No response buffer at all, or only a readable one. */
    struct vd_buf only = { REQ_GPA, sizeof(c), false };
    mem_write(&mem, REQ_GPA, &c, sizeof(c));
    vd_post(&ctrlq, &only, 1);
    vd_notify(&ctrlq);
    CHECK(vd_used(&ctrlq, NULL, &used));
    CHECK_EQ(used, 0);
    CHECK_EQ(unref(1), E_RESOURCE);
    /* A response buffer larger than needed gets just the header. */
    uint8_t big[64];
    CHECK_EQ(cmd_raw(&c, sizeof(c), big, sizeof(big)), 24);
    CHECK_EQ(big[24], 0xee);
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));
    teardown();
}

TEST(fences)
{
    setup();
    struct virtio_gpu_resource_create_2d c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
        .resource_id = htole32(1),
        .format = htole32(FMT_BGRX),
        .width = htole32(4),
        .height = htole32(4),
    };
    c.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
    c.hdr.fence_id = htole64(0x1122334455667788ull);
    c.hdr.ctx_id = htole32(7);
    struct virtio_gpu_ctrl_hdr h;
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), OK);
    CHECK_EQ(le32toh(h.flags), VIRTIO_GPU_FLAG_FENCE);
    CHECK_EQ(le64toh(h.fence_id), 0x1122334455667788ull);
    CHECK_EQ(le32toh(h.ctx_id), 7);
    CHECK_EQ(h.ring_idx, 0);

    /* With a ring index, and on an error answer. */
    c.hdr.flags =
        htole32(VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
    c.hdr.fence_id = htole64(42);
    c.hdr.ring_idx = 3;
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), E_RESOURCE);
    CHECK_EQ(le32toh(h.flags),
             VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX);
    CHECK_EQ(le64toh(h.fence_id), 42);
    CHECK_EQ(le32toh(h.ctx_id), 7);
    CHECK_EQ(h.ring_idx, 3);

    /* A fenced GET_DISPLAY_INFO keeps its payload. */
    struct virtio_gpu_resp_display_info di;
    struct virtio_gpu_ctrl_hdr q = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
    q.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
    q.fence_id = htole64(5);
    CHECK_EQ(cmd_raw(&q, sizeof(q), &di, sizeof(di)), sizeof(di));
    CHECK_EQ(le64toh(di.hdr.fence_id), 5);
    CHECK_EQ(le32toh(di.pmodes[0].r.width), 1280);

    /* Without FENCE nothing is echoed. */
    c.hdr.flags = 0;
    c.resource_id = htole32(2);
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), OK);
    CHECK_EQ(h.flags, 0);
    CHECK_EQ(h.fence_id, 0);
    CHECK_EQ(h.ctx_id, 0);
    CHECK_EQ(h.ring_idx, 0);
    teardown();
}

TEST(request_size)
{
    struct virtio_gpu_conf conf = default_conf();
    conf.max_outputs = 2;
    setup_conf(&conf, 1ull << VIRTIO_GPU_F_EDID);
    const uint32_t ev = offsetof(struct virtio_gpu_config, events_read);
    const uint32_t clr = offsetof(struct virtio_gpu_config, events_clear);
    dev_lock();
    virtio_isr_read_clear(d);
    uint32_t gen = d->config_generation;
    dev_unlock();

    ui_console_request_size(console(0), 800, 600);
    CHECK_EQ(cfg32(ev), VIRTIO_GPU_EVENT_DISPLAY);
    CHECK(d->isr & VIRTIO_MMIO_INT_CONFIG);
    CHECK_EQ(d->config_generation, gen + 1);
    struct virtio_gpu_resp_display_info di;
    display_info(&di);
    CHECK_EQ(le32toh(di.pmodes[0].r.width), 800);
    CHECK_EQ(le32toh(di.pmodes[0].r.height), 600);
    CHECK_EQ(le32toh(di.pmodes[0].enabled), 1);
    CHECK_EQ(le32toh(di.pmodes[1].enabled), 0);
    struct virtio_gpu_resp_edid r;
    CHECK_EQ(get_edid(0, &r), VIRTIO_GPU_RESP_OK_EDID);
    check_edid_block(r.edid, 800, 600);

    /* The driver clears the event (write 1 to clear). */
    uint32_t one = htole32(VIRTIO_GPU_EVENT_DISPLAY);
    vd_cfg_write(d, clr, &one, 4);
    CHECK_EQ(cfg32(ev), 0);
    CHECK_EQ(cfg32(clr), 0);

    /* The same size again is no event. */
    dev_lock();
    virtio_isr_read_clear(d);
    dev_unlock();
    ui_console_request_size(console(0), 800, 600);
    CHECK_EQ(cfg32(ev), 0);
    CHECK_EQ(d->isr, 0);

    /* Head 1 is enabled by a request; 0 x 0 disables head 0. */
    ui_console_request_size(console(1), 640, 480);
    CHECK_EQ(cfg32(ev), VIRTIO_GPU_EVENT_DISPLAY);
    ui_console_request_size(console(0), 0, 0);
    display_info(&di);
    CHECK_EQ(le32toh(di.pmodes[0].enabled), 0);
    CHECK_EQ(le32toh(di.pmodes[1].enabled), 1);
    CHECK_EQ(le32toh(di.pmodes[1].r.width), 640);
    CHECK_EQ(le32toh(di.pmodes[1].r.height), 480);
    /* Oversized requests are clamped to what EDID can say. */
    ui_console_request_size(console(1), 100000, 5000);
    display_info(&di);
    CHECK_EQ(le32toh(di.pmodes[1].r.width), VIRTIO_GPU_MAX_RES);
    CHECK_EQ(le32toh(di.pmodes[1].r.height), VIRTIO_GPU_MAX_RES);
    /* Clearing one byte at a time works too. */
    uint8_t b = VIRTIO_GPU_EVENT_DISPLAY;
    vd_cfg_write(d, clr, &b, 1);
    CHECK_EQ(cfg32(ev), 0);

    /* Reset: back to the configured heads, no event pending. */
    ui_console_request_size(console(0), 1024, 768);
    CHECK(vd_features(d, 1ull << VIRTIO_GPU_F_EDID));
    CHECK(vd_queue(&ctrlq, d, 0, 64));
    vd_driver_ok(d);
    CHECK_EQ(cfg32(ev), 0);
    display_info(&di);
    CHECK_EQ(le32toh(di.pmodes[0].enabled), 1);
    CHECK_EQ(le32toh(di.pmodes[0].r.width), 1280);
    CHECK_EQ(le32toh(di.pmodes[0].r.height), 800);
    CHECK_EQ(le32toh(di.pmodes[1].enabled), 0);
    teardown();
}

TEST(max_hostmem)
{
    struct virtio_gpu_conf conf = default_conf();
    conf.max_hostmem = 1ull << 20;
    setup_conf(&conf, 0);
    /* 256 KiB of pixels each, plus gfx's bookkeeping. */
    CHECK_EQ(create_2d(1, FMT_BGRX, 256, 256), OK);
    CHECK_EQ(create_2d(2, FMT_BGRX, 256, 256), OK);
    CHECK_EQ(create_2d(3, FMT_BGRX, 256, 256), OK);
    CHECK_EQ(create_2d(4, FMT_BGRX, 256, 256), E_OOM);
    CHECK_EQ(create_2d(5, FMT_BGRX, 512, 512), E_OOM);
    CHECK_EQ(unref(2), OK);
    CHECK_EQ(create_2d(4, FMT_BGRX, 256, 256), OK);
    teardown();

    /* The consoles' own surfaces are held to max_hostmem too: two heads
     * showing one 256 KiB resource do not fit in 300 KiB. */
    conf.max_hostmem = 300 * 1024;
    conf.max_outputs = 2;
    setup_conf(&conf, 0);
    CHECK_EQ(create_2d(1, FMT_BGRX, 256, 256), OK);
    CHECK_EQ(set_scanout(0, 1, 0, 0, 256, 256), OK);
    uint32_t w, h;
    ui_console_size(console(0), &w, &h);
    CHECK_EQ(w, 256);
    CHECK_EQ(set_scanout(1, 1, 0, 0, 256, 256), OK);
    ui_console_size(console(1), &w, &h);
    CHECK_EQ(w, 0);
    CHECK_EQ(h, 0);
    /* Halve head 0 and head 1 fits. */
    CHECK_EQ(set_scanout(0, 1, 0, 0, 256, 128), OK);
    ui_console_size(console(0), &w, &h);
    CHECK_EQ(h, 128);
    CHECK_EQ(set_scanout(1, 1, 0, 128, 256, 128), OK);
    ui_console_size(console(1), &w, &h);
    CHECK_EQ(w, 256);
    CHECK_EQ(h, 128);
    teardown();
}

/* Post a cursor command (readable only, as Linux does). */
static void cursor_cmd(uint32_t type, uint32_t scanout, uint32_t id,
                       uint32_t hot_x, uint32_t hot_y, int32_t x, int32_t y,
                       uint32_t len)
{
    struct virtio_gpu_update_cursor c = {
        .hdr = hdr(type),
        .pos = { htole32(scanout), htole32((uint32_t)x), htole32((uint32_t)y),
                 0 },
        .resource_id = htole32(id),
        .hot_x = htole32(hot_x),
        .hot_y = htole32(hot_y),
    };
    mem_write(&mem, REQ_GPA + 0x1000, &c, sizeof(c));
    struct vd_buf b = { REQ_GPA + 0x1000, len, false };
    vd_post(&curq, &b, 1);
    vd_notify(&curq);
    uint32_t used = 0xffff;
    CHECK(vd_used(&curq, NULL, &used));
    CHECK_EQ(used, 0);
}

TEST(cursor)
{
    setup();
    struct ui_console *con = console(0);
    struct entry e = { BACK_GPA, 64 * 64 * 4 };
    fill(&e, 64 * 64 * 4, 64, 0, 0, 64, 64, 5);
    CHECK_EQ(create_2d(5, FMT_BGRA, 64, 64), OK);
    CHECK_EQ(attach(5, &e, 1), OK);
    CHECK_EQ(transfer(5, 0, 0, 64, 64, 0), OK);
    const uint32_t full = sizeof(struct virtio_gpu_update_cursor);

    cursor_cmd(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 5, 3, 4, 100, 200, full);
    uint32_t hx, hy;
    int32_t x, y;
    pixman_image_t *img = ui_console_cursor(con, &hx, &hy, &x, &y);
    CHECK(img != NULL);
    CHECK_EQ(hx, 3);
    CHECK_EQ(hy, 4);
    CHECK_EQ(x, 100);
    CHECK_EQ(y, 200);
    if (img) {
        CHECK_EQ(pixman_image_get_width(img), 64);
        CHECK_EQ(px(img, 10, 20), pix(10, 20, 5) & 0xffffff);
        pixman_image_unref(img);
    }
    /* Negative positions (partly off the top left). */
    cursor_cmd(VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 0, 0, 0, -5, -7, full);
    img = ui_console_cursor(con, &hx, &hy, &x, &y);
    CHECK(img != NULL);
    CHECK_EQ(x, -5);
    CHECK_EQ(y, -7);
    CHECK_EQ(hx, 3);
    if (img) {
        pixman_image_unref(img);
    }
    /* Short, unknown, bad scanout, bad resource: consumed, no change. */
    cursor_cmd(VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 0, 0, 0, 1, 1, full - 1);
    cursor_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0, 0, 0, 0, 1, 1, full);
    cursor_cmd(VIRTIO_GPU_CMD_MOVE_CURSOR, 1, 0, 0, 0, 1, 1, full);
    cursor_cmd(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 77, 0, 0, 1, 1, full);
    cursor_cmd(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 5, 0, 0, 1, 1, 3);
    img = ui_console_cursor(con, &hx, &hy, &x, &y);
    CHECK(img != NULL);
    CHECK_EQ(x, -5);
    if (img) {
        pixman_image_unref(img);
    }
    /* A resource that is not 64x64 is refused. */
    CHECK_EQ(create_2d(6, FMT_BGRA, 32, 32), OK);
    cursor_cmd(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 6, 0, 0, 1, 1, full);
    img = ui_console_cursor(con, &hx, &hy, &x, &y);
    CHECK(img != NULL);
    CHECK_EQ(x, -5);
    if (img) {
        pixman_image_unref(img);
    }
    /* Resource 0 hides it. */
    cursor_cmd(VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0, 0, 9, 9, full);
    CHECK(ui_console_cursor(con, &hx, &hy, &x, &y) == NULL);
    CHECK_EQ(x, 9);

    /* A cursor chain with a writable buffer gets nothing written. */
    struct vd_buf wb[2] = {
        { REQ_GPA + 0x1000, full, false },
        { RESP_GPA, 64, true },
    };
    uint8_t junk[64], after[64];
    mem_read(&mem, RESP_GPA, junk, sizeof(junk));
    vd_post(&curq, wb, 2);
    vd_notify(&curq);
    uint32_t used = 1;
    CHECK(vd_used(&curq, NULL, &used));
    CHECK_EQ(used, 0);
    mem_read(&mem, RESP_GPA, after, sizeof(after));
    CHECK(memcmp(junk, after, sizeof(junk)) == 0);
    CHECK(!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET));

    /* Reset hides the cursor and the scanout. */
    CHECK_EQ(set_scanout(0, 5, 0, 0, 64, 64), OK);
    pixman_image_t *snap = ui_console_snapshot(con);
    CHECK(snap != NULL);
    if (snap) {
        pixman_image_unref(snap);
    }
    dev_lock();
    virtio_reset(d);
    dev_unlock();
    CHECK(ui_console_cursor(con, &hx, &hy, &x, &y) == NULL);
    CHECK(ui_console_snapshot(con) == NULL);
    CHECK(vd_features(d, 0));
    CHECK(vd_queue(&ctrlq, d, 0, 64));
    vd_driver_ok(d);
    CHECK_EQ(create_2d(5, FMT_BGRA, 64, 64), OK); /* the id is free */
    teardown();
}

/* Many backing entries, near the limit, scattered over guest RAM. */
TEST(many_entries)
{
    setup();
    const uint32_t n = GFX_MAX_BACKING_ENTRIES;
    size_t len = sizeof(struct virtio_gpu_resource_attach_backing) + n * 16;
    uint8_t *buf = calloc(1, len);
    struct virtio_gpu_resource_attach_backing c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
        .resource_id = htole32(1),
        .nr_entries = htole32(n),
    };
    memcpy(buf, &c, sizeof(c));
    /* 16384 entries of 64 bytes each, every other 64 bytes of 2 MiB. */
    for (uint32_t i = 0; i < n; i++) {
        struct virtio_gpu_mem_entry m = {
            .addr = htole64(BACK_GPA + 128ull * i),
            .length = htole32(64),
        };
        memcpy(buf + sizeof(c) + 16ull * i, &m, sizeof(m));
    }
    /* The request is larger than one descriptor can sensibly be here:
     * put it in RAM below the backing and post it in 4 pieces. */
    CHECK_EQ(create_2d(1, FMT_BGRX, 256, 1024), OK);
    uint64_t req = VD_RAM_BASE + VD_RAM_SIZE - 0x48000;
    mem_write(&mem, req, buf, len);
    size_t q = len / 4;
    struct vd_buf b[5] = {
        { req, (uint32_t)q, false },
        { req + q, (uint32_t)q, false },
        { req + 2 * q, (uint32_t)q, false },
        { req + 3 * q, (uint32_t)(len - 3 * q), false },
        { RESP_GPA, 24, true },
    };
    vd_post(&ctrlq, b, 5);
    vd_notify(&ctrlq);
    uint32_t used = 0;
    CHECK(vd_used(&ctrlq, NULL, &used));
    CHECK_EQ(used, 24);
    struct virtio_gpu_ctrl_hdr h;
    mem_read(&mem, RESP_GPA, &h, sizeof(h));
    CHECK_EQ(le32toh(h.type), OK);
    /* Row 0 of the resource is entries 0..15: put a pixel in entry 3. */
    uint32_t v = htole32(0xff123456);
    mem_write(&mem, BACK_GPA + 128 * 3 + 8, &v, 4);
    CHECK_EQ(transfer(1, 0, 0, 256, 1024, 0), OK);
    CHECK_EQ(set_scanout(0, 1, 0, 0, 256, 1024), OK);
    pixman_image_t *snap = ui_console_snapshot(console(0));
    CHECK(snap != NULL);
    if (snap) {
        CHECK_EQ(px(snap, 3 * 16 + 2, 0), 0x123456);
        pixman_image_unref(snap);
    }
    free(buf);
    teardown();
}

/* ---- the -device model ---- */

static int model_create(const char *spec, struct device_instance *inst,
                        struct vm *vm, struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, spec, "driver", "-device", err);
    CHECK_EQ(r, 0);
    r = model_check_opts(&virtio_gpu_model, &o, err);
    if (r == 0) {
        r = virtio_gpu_model.create(vm, &o, inst, err);
    }
    opts_free(&o);
    return r;
}

TEST(model)
{
    CHECK(model_find("virtio-gpu-device") == &virtio_gpu_model);
    struct vm vm;
    memset(&vm, 0, sizeof(vm));
    CHECK(vd_ram(&vm.mem) == 0);

    struct device_instance inst = { 0 };
    struct error err = { 0 };
    CHECK_EQ(model_create("virtio-gpu-device,id=g1,max_outputs=3,xres=640,"
                          "yres=480,edid=off,max_hostmem=64M",
                          &inst, &vm, &err),
             0);
    CHECK(inst.model == &virtio_gpu_model && inst.vdev != NULL);
    d = inst.vdev;
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_scanouts)), 3);
    CHECK(!(d->host_features & (1ull << VIRTIO_GPU_F_EDID)));
    struct error e2 = { 0 };
    CHECK(ui_console_find("g1", 2, &e2) != NULL);
    CHECK(ui_console_find("g1", 3, &e2) == NULL);
    virtio_gpu_model.destroy(inst.state);
    ui_shutdown();

    /* Defaults: one head, 1280x800, EDID. */
    memset(&inst, 0, sizeof(inst));
    CHECK_EQ(model_create("virtio-gpu-device", &inst, &vm, &err), 0);
    d = inst.vdev;
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_scanouts)), 1);
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_EDID));
    virtio_gpu_model.destroy(inst.state);
    ui_shutdown();

    /* Bad values: one error naming the property. */
    static const struct {
        const char *spec, *word;
    } bad[] = {
        { "virtio-gpu-device,max_outputs=0", "max_outputs" },
        { "virtio-gpu-device,max_outputs=17", "max_outputs" },
        { "virtio-gpu-device,max_outputs=two", "max_outputs" },
        { "virtio-gpu-device,xres=0", "xres" },
        { "virtio-gpu-device,xres=4096", "xres" },
        { "virtio-gpu-device,xres=99999999999999999999", "xres" },
        { "virtio-gpu-device,yres=-1", "yres" },
        { "virtio-gpu-device,edid=maybe", "edid" },
        { "virtio-gpu-device,max_hostmem=0", "max_hostmem" },
        { "virtio-gpu-device,max_hostmem=12Q", "max_hostmem" },
        { "virtio-gpu-device,bogus=1", "bogus" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct error be = { 0 };
        memset(&inst, 0, sizeof(inst));
        CHECK(model_create(bad[i].spec, &inst, &vm, &be) < 0);
        CHECK(strstr(be.msg, "virtio-gpu-device") != NULL);
        CHECK(strstr(be.msg, bad[i].word) != NULL);
        CHECK(strchr(be.msg, '\n') == NULL);
        CHECK_EQ(ui_console_count(), 0);
    }

    /* The display layer has 16 consoles in all. */
    memset(&inst, 0, sizeof(inst));
    CHECK_EQ(model_create("virtio-gpu-device,max_outputs=16", &inst, &vm, &err),
             0);
    struct device_instance inst2 = { 0 };
    struct error ce = { 0 };
    CHECK(model_create("virtio-gpu-device", &inst2, &vm, &ce) < 0);
    CHECK(strstr(ce.msg, "max_outputs") != NULL);
    CHECK_EQ(ui_console_count(), 16);
    virtio_gpu_model.destroy(inst.state);
    ui_shutdown();
    mem_free(&vm.mem);
}

/* ---- conformance ---- */

static struct virtio_dev *conf_create(struct mem_map *m, void *arg)
{
    struct virtio_gpu_conf *conf = arg;
    struct error err = { 0 };
    struct virtio_gpu *g = virtio_gpu_new(m, conf, &err);
    CHECK(g != NULL);
    return g ? virtio_gpu_vdev(g) : NULL;
}

static void conf_destroy(struct virtio_dev *dd)
{
    virtio_gpu_free(dd->opaque);
    ui_shutdown();
}

TEST(conformance)
{
    struct mem_map m;
    CHECK(vd_ram(&m) == 0);
    struct virtio_gpu_conf conf = default_conf();
    conf.max_outputs = 2;
    struct error err = { 0 };
    struct virtio_gpu *g = virtio_gpu_new(&m, &conf, &err);
    struct vconf_device cd = {
        .ops = virtio_gpu_vdev(g)->ops,
        .create = conf_create,
        .destroy = conf_destroy,
        .arg = &conf,
    };
    virtio_gpu_free(g);
    ui_shutdown();
    mem_free(&m);
    vconf_run(&cd);
}

int main(void)
{
    RUN(display_info_and_config);
    RUN(full_2d_sequence);
    RUN(edid);
    RUN(errors);
    RUN(truncated);
    RUN(fences);
    RUN(request_size);
    RUN(max_hostmem);
    RUN(cursor);
    RUN(many_entries);
    RUN(model);
    RUN(conformance);
    HARNESS_END();
}
