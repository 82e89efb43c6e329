/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for src/gfx (the core and the 2D component), no VM: a
 * mem_map with one RAM and one ROM block stands in for the guest. Covers
 * the virtio-gpu format mapping (checked by the channel values pixels end
 * up with, not only by the table), resource lifetime and ids, size
 * overflow, the max_hostmem cap, backing checks against guest RAM,
 * transfer bounds and scattered backing, the scanout listener, cursors,
 * snapshots and reset.
 */
#include <stdbool.h>
#include <string.h>

#include "core/error.h"
#include "gfx/gfx.h"
#include "harness.h"
#include "mem/mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define ROM_BASE 0x1000ull
#define ROM_SIZE 0x1000ull

#define OK          VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC    VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM       VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCANOUT   VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RESOURCE  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAMETER VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define FMT_BGRA    VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM
#define FMT_BGRX    VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

static struct mem_map mm;

static struct gfx *new_gfx(uint64_t max_hostmem, uint32_t num_scanouts)
{
    struct gfx_config cfg = {
        .mem = &mm,
        .max_hostmem = max_hostmem,
        .num_scanouts = num_scanouts,
    };
    struct gfx *g = NULL;
    struct error err = { 0 };
    CHECK_EQ(gfx_create(&cfg, &g, &err), 0);
    CHECK(g != NULL);
    return g;
}

static uint8_t *ram(uint64_t gpa)
{
    return mem_ptr(&mm, gpa, 1, true);
}

/* Create a w x h resource with one backing entry at gpa, fill the
 * backing with pixel values from pix(), transfer it all. */
static void make_filled(struct gfx *g, uint32_t id, uint32_t fmt, uint32_t w,
                        uint32_t h, uint64_t gpa,
                        uint32_t (*pix)(uint32_t x, uint32_t y))
{
    CHECK_EQ(gfx_resource_create_2d(g, id, fmt, w, h), OK);
    uint32_t *p = (uint32_t *)ram(gpa);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            p[y * w + x] = pix(x, y);
        }
    }
    struct gfx_iovec e = { gpa, w * h * 4 };
    CHECK_EQ(gfx_resource_attach_backing(g, id, &e, 1), OK);
    struct gfx_rect r = { 0, 0, w, h };
    CHECK_EQ(gfx_transfer_to_host_2d(g, id, &r, 0), OK);
}

static uint32_t pix_xy(uint32_t x, uint32_t y)
{
    return 0xff000000u | (y << 8) | x;
}

/* Pixel (x, y) of img converted to a8r8g8b8. */
static uint32_t argb_at(pixman_image_t *img, int x, int y)
{
    uint32_t out = 0;
    pixman_image_t *dst =
        pixman_image_create_bits(PIXMAN_a8r8g8b8, 1, 1, &out, 4);
    pixman_image_composite32(PIXMAN_OP_SRC, img, NULL, dst, x, y, 0, 0, 0, 0, 1,
                             1);
    pixman_image_unref(dst);
    return out;
}

TEST(config)
{
    struct gfx_config cfg = { .mem = &mm, .max_hostmem = 1 << 20 };
    struct gfx *g = (struct gfx *)1;
    struct error e1 = { 0 };
    CHECK(gfx_create(&cfg, &g, &e1) < 0); /* 0 scanouts */
    CHECK(g == NULL);
    cfg.num_scanouts = GFX_MAX_SCANOUTS + 1;
    struct error e2 = { 0 };
    CHECK(gfx_create(&cfg, &g, &e2) < 0);
    cfg.num_scanouts = 1;
    cfg.max_hostmem = 0;
    struct error e3 = { 0 };
    CHECK(gfx_create(&cfg, &g, &e3) < 0);
    cfg.max_hostmem = 1 << 20;
    cfg.num_scanouts = GFX_MAX_SCANOUTS;
    struct error e4 = { 0 };
    CHECK_EQ(gfx_create(&cfg, &g, &e4), 0);
    CHECK_EQ(gfx_num_scanouts(g), GFX_MAX_SCANOUTS);
    gfx_destroy(g);
    gfx_destroy(NULL);
}

TEST(format_table)
{
    CHECK_EQ(gfx_format_to_pixman(0), 0);
    CHECK_EQ(gfx_format_to_pixman(5), 0);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM + 1000), 0);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM),
             PIXMAN_a8r8g8b8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM),
             PIXMAN_x8r8g8b8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM),
             PIXMAN_b8g8r8a8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM),
             PIXMAN_b8g8r8x8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM),
             PIXMAN_a8b8g8r8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM),
             PIXMAN_r8g8b8x8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM),
             PIXMAN_r8g8b8a8);
    CHECK_EQ(gfx_format_to_pixman(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM),
             PIXMAN_x8b8g8r8);
#endif
}

/* The mapping checked by meaning: bytes named by the format land in the
 * right channels, whatever the host byte order. */
TEST(format_bytes)
{
    static const struct {
        uint32_t fmt;
        const char *order; /* byte order in memory; X = ignored */
    } fmts[] = {
        { VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, "BGRA" },
        { VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, "BGRX" },
        { VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, "ARGB" },
        { VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, "XRGB" },
        { VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, "RGBA" },
        { VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, "XBGR" },
        { VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, "ABGR" },
        { VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, "RGBX" },
    };
    struct gfx *g = new_gfx(1 << 20, 1);
    uint64_t gpa = RAM_BASE + 0x1000;
    for (unsigned i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        uint32_t id = 10 + i;
        CHECK_EQ(gfx_resource_create_2d(g, id, fmts[i].fmt, 1, 1), OK);
        /* Opaque alpha, so premultiplication changes nothing. */
        uint8_t val[256] = { 0 };
        val['R'] = 0x11;
        val['G'] = 0x22;
        val['B'] = 0x33;
        val['A'] = 0xff;
        val['X'] = 0x5a;
        for (int b = 0; b < 4; b++) {
            ram(gpa)[b] = val[(unsigned char)fmts[i].order[b]];
        }
        struct gfx_iovec e = { gpa, 4 };
        CHECK_EQ(gfx_resource_attach_backing(g, id, &e, 1), OK);
        struct gfx_rect r = { 0, 0, 1, 1 };
        CHECK_EQ(gfx_transfer_to_host_2d(g, id, &r, 0), OK);
        CHECK_EQ(gfx_set_scanout(g, 0, id, &r), OK);
        pixman_image_t *snap = gfx_scanout_snapshot(g, 0);
        CHECK(snap != NULL);
        if (snap) {
            CHECK_EQ(argb_at(snap, 0, 0), 0xff112233u);
            pixman_image_unref(snap);
        }
    }
    gfx_destroy(g);
}

TEST(create_unref)
{
    struct gfx *g = new_gfx(1 << 20, 1);
    CHECK_EQ(gfx_hostmem_used(g), 0);
    CHECK_EQ(gfx_resource_create_2d(g, 0, FMT_BGRA, 4, 4), E_RESOURCE);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 4, 4), OK);
    uint64_t one = gfx_hostmem_used(g);
    CHECK(one >= 4 * 4 * 4);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 4, 4), E_RESOURCE);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRX, 8, 8), E_RESOURCE);
    CHECK_EQ(gfx_hostmem_used(g), one);
    CHECK_EQ(gfx_resource_create_2d(g, 0xffffffff, FMT_BGRA, 4, 4), OK);
    CHECK_EQ(gfx_resource_create_2d(g, 2, 0, 4, 4), E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 2, 999, 4, 4), E_PARAMETER);
    CHECK_EQ(gfx_hostmem_used(g), 2 * one);
    CHECK_EQ(gfx_resource_unref(g, 0), E_RESOURCE);
    CHECK_EQ(gfx_resource_unref(g, 3), E_RESOURCE);
    CHECK_EQ(gfx_resource_unref(g, 1), OK);
    CHECK_EQ(gfx_resource_unref(g, 1), E_RESOURCE);
    CHECK_EQ(gfx_resource_unref(g, 0xffffffff), OK);
    CHECK_EQ(gfx_hostmem_used(g), 0);
    /* Ids are reusable after unref. */
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 4, 4), OK);
    /* Commands on unknown ids. */
    struct gfx_rect r = { 0, 0, 1, 1 };
    struct gfx_iovec e = { RAM_BASE, 64 };
    CHECK_EQ(gfx_resource_attach_backing(g, 7, &e, 1), E_RESOURCE);
    CHECK_EQ(gfx_resource_detach_backing(g, 7), E_RESOURCE);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 7, &r, 0), E_RESOURCE);
    CHECK_EQ(gfx_resource_flush(g, 7, &r), E_RESOURCE);
    CHECK_EQ(gfx_set_scanout(g, 0, 7, &r), E_RESOURCE);
    CHECK_EQ(gfx_update_cursor(g, 0, 7, 0, 0, 0, 0), E_RESOURCE);
    gfx_destroy(g); /* frees resource 1 */
}

TEST(sizes)
{
    struct gfx *g = new_gfx(1ull << 40, 1);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 0, 16), E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 16, 0), E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 0x80000000u, 1),
             E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 0xffffffffu, 0xffffffffu),
             E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 65536, 65536), E_PARAMETER);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 1, 0x40000000u),
             E_PARAMETER);
    CHECK_EQ(gfx_hostmem_used(g), 0);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 1, 1), OK);
    gfx_destroy(g);
}

TEST(hostmem_cap)
{
    struct gfx *g = new_gfx(1 << 20, 1);
    /* 256 KiB of pixels each, plus bookkeeping: three fit, four do not. */
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 256, 256), OK);
    CHECK_EQ(gfx_resource_create_2d(g, 2, FMT_BGRA, 256, 256), OK);
    CHECK_EQ(gfx_resource_create_2d(g, 3, FMT_BGRA, 256, 256), OK);
    uint64_t used = gfx_hostmem_used(g);
    CHECK_EQ(gfx_resource_create_2d(g, 4, FMT_BGRA, 256, 256), E_OOM);
    CHECK_EQ(gfx_hostmem_used(g), used);
    CHECK(used <= 1 << 20);
    CHECK_EQ(gfx_resource_unref(g, 2), OK);
    CHECK_EQ(gfx_resource_create_2d(g, 4, FMT_BGRA, 256, 256), OK);
    gfx_reset(g);
    CHECK_EQ(gfx_hostmem_used(g), 0);

    /* Tiny resources are not free: the count is bounded by the cap. */
    uint32_t n = 0;
    while (n < 100000 &&
           gfx_resource_create_2d(g, 1000 + n * 7919, FMT_BGRA, 1, 1) == OK) {
        n++;
    }
    CHECK(n > 100 && n < 100000);
    CHECK(gfx_hostmem_used(g) <= 1 << 20);
    /* The table still finds each of them (it grew several times). */
    for (uint32_t i = 0; i < n; i++) {
        CHECK_EQ(gfx_resource_unref(g, 1000 + i * 7919), OK);
    }
    CHECK_EQ(gfx_hostmem_used(g), 0);

    /* Backing tables count too. */
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 128, 128), OK);
    used = gfx_hostmem_used(g);
    static struct gfx_iovec many[GFX_MAX_BACKING_ENTRIES];
    for (uint32_t i = 0; i < GFX_MAX_BACKING_ENTRIES; i++) {
        many[i] = (struct gfx_iovec){ RAM_BASE + i * 4ull, 4 };
    }
    CHECK_EQ(gfx_resource_attach_backing(g, 1, many, GFX_MAX_BACKING_ENTRIES),
             OK);
    CHECK(gfx_hostmem_used(g) > used);
    CHECK_EQ(gfx_resource_detach_backing(g, 1), OK);
    CHECK_EQ(gfx_hostmem_used(g), used);
    gfx_destroy(g);

    struct gfx *small = new_gfx(128 * 128 * 4 + 4096, 1);
    CHECK_EQ(gfx_resource_create_2d(small, 1, FMT_BGRA, 128, 128), OK);
    CHECK_EQ(
        gfx_resource_attach_backing(small, 1, many, GFX_MAX_BACKING_ENTRIES),
        E_OOM);
    CHECK_EQ(gfx_resource_attach_backing(small, 1, many, 4), OK);
    gfx_destroy(small);
}

TEST(attach_checks)
{
    struct gfx *g = new_gfx(1 << 20, 1);
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, 16, 16), OK);
    struct gfx_iovec e[2] = { { RAM_BASE, 1024 }, { RAM_BASE + 8192, 0 } };

    CHECK_EQ(gfx_resource_attach_backing(g, 1, e, 0), E_PARAMETER);
    CHECK_EQ(gfx_resource_attach_backing(g, 1, e, GFX_MAX_BACKING_ENTRIES + 1),
             E_PARAMETER);
    /* Outside RAM: below, straddling the end, beyond, wrapping, in ROM. */
    struct gfx_iovec bad[] = {
        { RAM_BASE - 4096, 4096 },
        { RAM_BASE - 1, 2 },
        { RAM_BASE + RAM_SIZE - 1024, 1025 },
        { RAM_BASE + RAM_SIZE, 16 },
        { UINT64_MAX - 15, 32 },
        { ROM_BASE, 64 },
        { 0, 16 },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct gfx_iovec two[2] = { e[0], bad[i] };
        CHECK_EQ(gfx_resource_attach_backing(g, 1, two, 2), E_PARAMETER);
    }
    CHECK_EQ(gfx_resource_detach_backing(g, 1), E_UNSPEC);
    /* The last byte of RAM is fine; a zero-length entry is skipped. */
    struct gfx_iovec edge[2] = { { RAM_BASE + RAM_SIZE - 1024, 1024 },
                                 { 0, 0 } };
    CHECK_EQ(gfx_resource_attach_backing(g, 1, edge, 2), OK);
    CHECK_EQ(gfx_resource_attach_backing(g, 1, e, 1), E_UNSPEC);
    CHECK_EQ(gfx_resource_detach_backing(g, 1), OK);
    CHECK_EQ(gfx_resource_detach_backing(g, 1), E_UNSPEC);
    CHECK_EQ(gfx_resource_attach_backing(g, 1, e, 2), OK);
    /* Unref with backing attached frees it. */
    CHECK_EQ(gfx_resource_unref(g, 1), OK);
    CHECK_EQ(gfx_hostmem_used(g), 0);
    gfx_destroy(g);
}

TEST(transfer_checks)
{
    struct gfx *g = new_gfx(1 << 20, 1);
    const uint32_t w = 16, h = 8, stride = w * 4;
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, w, h), OK);
    struct gfx_rect all = { 0, 0, w, h };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, 0), E_UNSPEC); /* none */
    struct gfx_iovec e = { RAM_BASE, stride * h };
    CHECK_EQ(gfx_resource_attach_backing(g, 1, &e, 1), OK);

    struct gfx_rect outside[] = {
        { 1, 0, w, h },           { 0, 1, w, h },
        { w, 0, 1, 1 },           { 0, h, 1, 1 },
        { w + 1, 0, 0, 0 },       { 0xffffffffu, 0, 2, 1 },
        { 2, 0, 0xffffffffu, 1 }, { 0, 0xffffffffu, 1, 2 },
        { 0, 0, w + 1, 1 },
    };
    for (unsigned i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &outside[i], 0), E_PARAMETER);
        CHECK_EQ(gfx_resource_flush(g, 1, &outside[i]), E_PARAMETER);
    }
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, 0), OK);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, 4), E_PARAMETER);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, stride * h), E_PARAMETER);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, UINT64_MAX), E_PARAMETER);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, UINT64_MAX - 3), E_PARAMETER);
    /* Bottom right corner: the last row ends exactly at the backing end,
     * though offset + stride * rows lies beyond it. */
    struct gfx_rect corner = { 12, 6, 4, 2 };
    uint64_t off = 6 * stride + 12 * 4;
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &corner, off), OK);
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &corner, off + 4), E_PARAMETER);
    /* Empty rectangles inside the resource do nothing. */
    struct gfx_rect empty = { w, h, 0, 0 };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &empty, UINT64_MAX), OK);
    /* A backing smaller than the resource works for what it covers. */
    CHECK_EQ(gfx_resource_detach_backing(g, 1), OK);
    e.len = stride * 2;
    CHECK_EQ(gfx_resource_attach_backing(g, 1, &e, 1), OK);
    struct gfx_rect two = { 0, 0, w, 2 };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &two, 0), OK);
    struct gfx_rect three = { 0, 0, w, 3 };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &three, 0), E_PARAMETER);
    gfx_destroy(g);
}

/* Scattered backing: entries of odd lengths at scattered addresses, so
 * pixels and rows are split across entries. */
TEST(scattered_backing)
{
    struct gfx *g = new_gfx(1 << 20, 1);
    const uint32_t w = 10, h = 6, stride = w * 4, total = stride * h;
    CHECK_EQ(gfx_resource_create_2d(g, 1, FMT_BGRA, w, h), OK);
    /* Backing bytes: pixel (x, y) is the word 0xff00yyxx, little endian;
     * the entries cut it at these lengths. */
    const uint32_t lens[] = { 7, 13, 1, 39, 40, 2, 58 };
    struct gfx_iovec e[8];
    uint32_t n = 0, done = 0;
    uint8_t linear[10 * 6 * 4];
    for (uint32_t i = 0; i < w * h; i++) {
        uint32_t v = pix_xy(i % w, i / w);
        memcpy(&linear[i * 4], &v, 4);
    }
    for (; n < sizeof(lens) / sizeof(lens[0]); n++) {
        uint64_t gpa = RAM_BASE + 0x10000 + n * 0x1003; /* not in order */
        if (n % 2) {
            gpa += 0x20000;
        }
        e[n] = (struct gfx_iovec){ gpa, lens[n] };
        memcpy(ram(gpa), &linear[done], lens[n]);
        done += lens[n];
    }
    e[n] = (struct gfx_iovec){ RAM_BASE + 0x40000, total - done };
    memcpy(ram(e[n].gpa), &linear[done], total - done);
    n++;
    CHECK_EQ(gfx_resource_attach_backing(g, 1, e, n), OK);

    struct gfx_rect all = { 0, 0, w, h };
    CHECK_EQ(gfx_set_scanout(g, 0, 1, &all), OK);
    /* A sub-rectangle first: only it changes. */
    struct gfx_rect sub = { 3, 1, 5, 4 };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &sub, 1 * stride + 3 * 4), OK);
    pixman_image_t *snap = gfx_scanout_snapshot(g, 0);
    CHECK(snap != NULL);
    for (uint32_t y = 0; snap && y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            bool in = x >= 3 && x < 8 && y >= 1 && y < 5;
            CHECK_EQ(argb_at(snap, (int)x, (int)y), in ? pix_xy(x, y) : 0);
        }
    }
    if (snap) {
        pixman_image_unref(snap);
    }
    /* A transfer with an offset not matching its rectangle copies from
     * there: the rect at (0,0) taken from row 2 onward. */
    struct gfx_rect top = { 0, 0, w, 2 };
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &top, 2 * stride), OK);
    snap = gfx_scanout_snapshot(g, 0);
    CHECK_EQ(argb_at(snap, 0, 0), pix_xy(0, 2));
    CHECK_EQ(argb_at(snap, 9, 1), pix_xy(9, 3));
    pixman_image_unref(snap);
    /* Everything. */
    CHECK_EQ(gfx_transfer_to_host_2d(g, 1, &all, 0), OK);
    snap = gfx_scanout_snapshot(g, 0);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            CHECK_EQ(argb_at(snap, (int)x, (int)y), pix_xy(x, y));
        }
    }
    pixman_image_unref(snap);
    gfx_destroy(g);
}

/* ---- listener ---- */

struct rec {
    int sets, damages, cursor_updates, cursor_moves;
    uint32_t scanout;
    pixman_image_t *image;
    struct gfx_rect r;
    bool r_null;
    uint32_t damage_mask;
    struct gfx_rect damage[GFX_MAX_SCANOUTS];
    struct gfx_cursor cursor;
    uint32_t cursor_pixel;
    int32_t mx, my;
};

static void rec_set(void *opaque, uint32_t scanout, pixman_image_t *image,
                    const struct gfx_rect *r)
{
    struct rec *rc = opaque;
    rc->sets++;
    rc->scanout = scanout;
    rc->image = image;
    rc->r_null = r == NULL;
    if (r) {
        rc->r = *r;
    }
}

static void rec_damage(void *opaque, uint32_t scanout, const struct gfx_rect *r)
{
    struct rec *rc = opaque;
    rc->damages++;
    rc->damage_mask |= 1u << scanout;
    rc->damage[scanout] = *r;
}

static void rec_cursor(void *opaque, uint32_t scanout,
                       const struct gfx_cursor *c)
{
    struct rec *rc = opaque;
    rc->cursor_updates++;
    rc->scanout = scanout;
    rc->cursor = *c;
    if (c->image) {
        /* The image must be readable here: sample pixel (1, 2). */
        rc->cursor_pixel = pixman_image_get_data(c->image)[2 * 64 + 1];
    }
}

static void rec_move(void *opaque, uint32_t scanout, int32_t x, int32_t y)
{
    struct rec *rc = opaque;
    rc->cursor_moves++;
    rc->scanout = scanout;
    rc->mx = x;
    rc->my = y;
}

static const struct gfx_listener rec_listener = {
    .scanout_set = rec_set,
    .scanout_damage = rec_damage,
    .cursor_update = rec_cursor,
    .cursor_move = rec_move,
};

static bool rect_eq(const struct gfx_rect *a, uint32_t x, uint32_t y,
                    uint32_t w, uint32_t h)
{
    return a->x == x && a->y == y && a->width == w && a->height == h;
}

TEST(scanouts)
{
    struct gfx *g = new_gfx(1 << 20, 2);
    struct rec rc = { 0 };
    gfx_set_listener(g, &rec_listener, &rc);
    CHECK_EQ(rc.sets, 0); /* nothing to replay */
    make_filled(g, 1, FMT_BGRX, 64, 32, RAM_BASE, pix_xy);
    make_filled(g, 2, FMT_BGRX, 16, 16, RAM_BASE + 0x10000, pix_xy);

    struct gfx_rect r = { 8, 4, 32, 16 };
    CHECK_EQ(gfx_set_scanout(g, 2, 1, &r), E_SCANOUT);
    CHECK_EQ(gfx_set_scanout(g, 0xffffffffu, 1, &r), E_SCANOUT);
    struct gfx_rect big = { 40, 0, 32, 16 };
    CHECK_EQ(gfx_set_scanout(g, 0, 1, &big), E_PARAMETER);
    CHECK_EQ(rc.sets, 0);

    CHECK_EQ(gfx_set_scanout(g, 0, 1, &r), OK);
    CHECK_EQ(rc.sets, 1);
    CHECK_EQ(rc.scanout, 0);
    CHECK(rc.image != NULL);
    CHECK(rect_eq(&rc.r, 8, 4, 32, 16));
    CHECK_EQ(pixman_image_get_width(rc.image), 64);

    /* The snapshot is the shown rectangle. */
    pixman_image_t *snap = gfx_scanout_snapshot(g, 0);
    CHECK_EQ(pixman_image_get_width(snap), 32);
    CHECK_EQ(pixman_image_get_height(snap), 16);
    CHECK_EQ(argb_at(snap, 0, 0), pix_xy(8, 4));
    CHECK_EQ(argb_at(snap, 31, 15), pix_xy(39, 19));
    pixman_image_unref(snap);
    CHECK(gfx_scanout_snapshot(g, 1) == NULL);
    CHECK(gfx_scanout_snapshot(g, 5) == NULL);

    /* Flush: clipped to the shown rectangle, in scanout coordinates. */
    struct gfx_rect f = { 0, 0, 10, 10 };
    CHECK_EQ(gfx_resource_flush(g, 1, &f), OK);
    CHECK_EQ(rc.damages, 1);
    CHECK(rect_eq(&rc.damage[0], 0, 0, 2, 6));
    struct gfx_rect off = { 0, 0, 8, 32 }; /* left of the rectangle */
    CHECK_EQ(gfx_resource_flush(g, 1, &off), OK);
    CHECK_EQ(rc.damages, 1);
    struct gfx_rect whole = { 0, 0, 64, 32 };
    CHECK_EQ(gfx_resource_flush(g, 1, &whole), OK);
    CHECK_EQ(rc.damages, 2);
    CHECK(rect_eq(&rc.damage[0], 0, 0, 32, 16));
    CHECK_EQ(gfx_resource_flush(g, 2, &f), OK); /* not shown */
    CHECK_EQ(rc.damages, 2);

    /* The same resource on both scanouts: both get damage. */
    struct gfx_rect r1 = { 32, 16, 32, 16 };
    CHECK_EQ(gfx_set_scanout(g, 1, 1, &r1), OK);
    CHECK_EQ(rc.sets, 2);
    rc.damage_mask = 0;
    CHECK_EQ(gfx_resource_flush(g, 1, &whole), OK);
    CHECK_EQ(rc.damage_mask, 3);
    CHECK(rect_eq(&rc.damage[1], 0, 0, 32, 16));

    /* Switch scanout 1 to resource 2: flushes of 1 no longer reach it. */
    struct gfx_rect r2 = { 0, 0, 16, 16 };
    CHECK_EQ(gfx_set_scanout(g, 1, 2, &r2), OK);
    CHECK_EQ(rc.sets, 3);
    rc.damage_mask = 0;
    CHECK_EQ(gfx_resource_flush(g, 1, &whole), OK);
    CHECK_EQ(rc.damage_mask, 1);

    /* Replay to a new listener. */
    struct rec rc2 = { 0 };
    gfx_set_listener(g, &rec_listener, &rc2);
    CHECK_EQ(rc2.sets, 2);
    CHECK_EQ(rc2.cursor_updates, 0);

    /* Disable: resource 0, and an empty rectangle. */
    CHECK_EQ(gfx_set_scanout(g, 1, 0, &r2), OK);
    CHECK_EQ(rc2.sets, 3);
    CHECK(rc2.image == NULL && rc2.r_null);
    CHECK_EQ(rc2.scanout, 1);
    struct gfx_rect none = { 0, 0, 0, 0 };
    CHECK_EQ(gfx_set_scanout(g, 0, 1, &none), OK);
    CHECK_EQ(rc2.sets, 4);
    CHECK(rc2.image == NULL);
    CHECK(gfx_scanout_snapshot(g, 0) == NULL);
    /* Disabling a disabled scanout says nothing. */
    CHECK_EQ(gfx_set_scanout(g, 0, 0, &none), OK);
    CHECK_EQ(rc2.sets, 4);

    /* Unref of a shown resource disables its scanouts first. */
    CHECK_EQ(gfx_set_scanout(g, 0, 2, &r2), OK);
    CHECK_EQ(gfx_set_scanout(g, 1, 2, &r2), OK);
    CHECK_EQ(rc2.sets, 6);
    CHECK_EQ(gfx_resource_unref(g, 2), OK);
    CHECK_EQ(rc2.sets, 8);
    CHECK(rc2.image == NULL);
    CHECK(gfx_scanout_snapshot(g, 1) == NULL);
    CHECK_EQ(gfx_resource_unref(g, 1), OK);
    CHECK_EQ(rc2.sets, 8);

    /* Reset disables what is still shown. */
    make_filled(g, 3, FMT_BGRX, 16, 16, RAM_BASE, pix_xy);
    CHECK_EQ(gfx_set_scanout(g, 0, 3, &r2), OK);
    CHECK_EQ(rc2.sets, 9);
    gfx_reset(g);
    CHECK_EQ(rc2.sets, 10);
    CHECK(rc2.image == NULL);
    CHECK_EQ(gfx_hostmem_used(g), 0);
    gfx_set_listener(g, NULL, NULL);
    gfx_destroy(g);
}

static uint32_t pix_cursor(uint32_t x, uint32_t y)
{
    return 0x80000000u | (y << 8) | x; /* alpha 0x80, premultiplied */
}

TEST(cursor)
{
    struct gfx *g = new_gfx(1 << 20, 2);
    struct rec rc = { 0 };
    gfx_set_listener(g, &rec_listener, &rc);
    make_filled(g, 5, FMT_BGRA, 64, 64, RAM_BASE, pix_cursor);
    make_filled(g, 6, FMT_BGRA, 32, 32, RAM_BASE + 0x10000, pix_cursor);

    CHECK_EQ(gfx_update_cursor(g, 2, 5, 0, 0, 0, 0), E_SCANOUT);
    CHECK_EQ(gfx_update_cursor(g, 0, 6, 0, 0, 0, 0), E_PARAMETER);
    CHECK_EQ(rc.cursor_updates, 0);

    CHECK_EQ(gfx_update_cursor(g, 1, 5, 3, 4, 100, -7), OK);
    CHECK_EQ(rc.cursor_updates, 1);
    CHECK_EQ(rc.scanout, 1);
    CHECK(rc.cursor.image != NULL);
    CHECK_EQ(rc.cursor.hot_x, 3);
    CHECK_EQ(rc.cursor.hot_y, 4);
    CHECK_EQ(rc.cursor.x, 100);
    CHECK_EQ((uint32_t)rc.cursor.y, (uint32_t)-7);
    CHECK_EQ(rc.cursor_pixel, pix_cursor(1, 2));
    pixman_image_t *ci = rc.cursor.image;
    CHECK_EQ(pixman_image_get_format(ci), PIXMAN_a8r8g8b8);
    CHECK_EQ(pixman_image_get_width(ci), 64);
    CHECK_EQ(argb_at(ci, 63, 63), pix_cursor(63, 63));

    /* The cursor is a copy: the resource going away changes nothing. */
    CHECK_EQ(gfx_resource_unref(g, 5), OK);
    CHECK_EQ(rc.cursor_updates, 1);
    CHECK_EQ(argb_at(ci, 10, 20), pix_cursor(10, 20));

    /* Hot spot clamped into the image. */
    make_filled(g, 7, FMT_BGRX, 64, 64, RAM_BASE, pix_cursor);
    CHECK_EQ(gfx_update_cursor(g, 1, 7, 1000, 64, 0, 0), OK);
    CHECK_EQ(rc.cursor.hot_x, 63);
    CHECK_EQ(rc.cursor.hot_y, 63);
    /* x8 format: its X byte is the cursor's alpha (see below). */
    CHECK_EQ(argb_at(rc.cursor.image, 1, 1), pix_cursor(1, 1));

    CHECK_EQ(gfx_move_cursor(g, 1, -5, 9), OK);
    CHECK_EQ(rc.cursor_moves, 1);
    CHECK_EQ(rc.mx, -5);
    CHECK_EQ(rc.my, 9);
    CHECK_EQ(gfx_move_cursor(g, 16, 0, 0), E_SCANOUT);
    CHECK_EQ(rc.cursor_moves, 1);

    /* Replay includes the visible cursor, with its last position. */
    struct rec rc2 = { 0 };
    gfx_set_listener(g, &rec_listener, &rc2);
    CHECK_EQ(rc2.cursor_updates, 1);
    CHECK_EQ(rc2.scanout, 1);
    CHECK_EQ(rc2.cursor.x, -5);

    /* Resource 0 hides it. */
    CHECK_EQ(gfx_update_cursor(g, 1, 0, 0, 0, 1, 2), OK);
    CHECK_EQ(rc2.cursor_updates, 2);
    CHECK(rc2.cursor.image == NULL);

    /* An XRGB resource (what Linux makes cursors from: dumb buffers are
     * always XRGB) keeps the alpha in its X byte, as QEMU reads it. */
    make_filled(g, 8, FMT_BGRX, 64, 64, RAM_BASE + 0x20000, pix_cursor);
    CHECK_EQ(gfx_update_cursor(g, 1, 8, 0, 0, 1, 2), OK);
    CHECK(rc2.cursor.image != NULL);
    CHECK_EQ(argb_at(rc2.cursor.image, 10, 20), pix_cursor(10, 20));
    CHECK_EQ(argb_at(rc2.cursor.image, 0, 0), pix_cursor(0, 0));
    CHECK_EQ(gfx_update_cursor(g, 1, 0, 0, 0, 1, 2), OK);

    /* Reset hides visible cursors. */
    CHECK_EQ(gfx_update_cursor(g, 0, 7, 0, 0, 1, 2), OK);
    CHECK_EQ(rc2.cursor_updates, 5);
    gfx_reset(g);
    CHECK_EQ(rc2.cursor_updates, 6);
    CHECK(rc2.cursor.image == NULL);
    gfx_destroy(g);
}

int main(void)
{
    struct error err = { 0 };
    if (mem_add_block(&mm, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0 ||
        mem_add_block(&mm, ROM_BASE, ROM_SIZE, true, "rom", &err) < 0) {
        printf("mem setup: %s\n", err.msg);
        return 1;
    }
    RUN(config);
    RUN(format_table);
    RUN(format_bytes);
    RUN(create_unref);
    RUN(sizes);
    RUN(hostmem_cap);
    RUN(attach_checks);
    RUN(transfer_checks);
    RUN(scattered_backing);
    RUN(scanouts);
    RUN(cursor);
    mem_free(&mm);
    HARNESS_END();
}
