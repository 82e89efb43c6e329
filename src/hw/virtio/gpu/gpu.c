/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu-device, 2D (virtio 1.2 spec, 5.7 "GPU Device": 5.7.4 config
 * space, 5.7.6 device operation). This file is the command decoder of
 * design.md's rutabaga model: every control-queue command is copied out
 * of the descriptor chain once, checked for length, and mapped onto the
 * one gfx_* call of the same name, whose answer goes back unchanged.
 * GET_DISPLAY_INFO and GET_EDID are answered here from the per-head state
 * (size and enabled bit: head 0 at xres x yres at power-on, the others
 * disabled, as QEMU; a console backend changes them through
 * request_size, which raises VIRTIO_GPU_EVENT_DISPLAY and a configuration
 * interrupt). The cursor queue carries UPDATE_CURSOR and MOVE_CURSOR,
 * consumed without a response (5.7.6.10).
 *
 * A command that is too short for its struct (or has no header) answers
 * VIRTIO_GPU_RESP_ERR_UNSPEC, as QEMU does; a response buffer too small
 * for the answer gets nothing, a used length of 0, and the command is not
 * run. RESOURCE_ATTACH_BACKING refuses more than GFX_MAX_BACKING_ENTRIES
 * before it reads any. 3D, blob, capset and uuid commands answer
 * ERR_UNSPEC: their features are not offered. All 2D work is synchronous,
 * so a fenced command's fence has signalled when its response is pushed;
 * the response echoes FENCE, fence_id, ctx_id (and INFO_RING_IDX with
 * ring_idx). Every guest error is logged through log_guest().
 *
 * Display: gfx's listener (called under the device lock, from inside the
 * gfx calls) forwards to one console per head: a new scanout resizes the
 * console to the scanout rectangle and copies it in, flush damage copies
 * the damaged part, cursor changes go to the console's cursor. The
 * consoles' own surfaces are host memory the guest sizes, so their total
 * is kept within max_hostmem too (a scanout that would pass it is shown
 * disabled, with a log line).
 */
#include "hw/virtio/gpu/gpu.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "board/board.h"
#include "bus/bus.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/options.h"
#include "gfx/cross_domain.h"
#include "gfx/gfx.h"
#include "hw/virtio/virtio.h"
#include "ui/console.h"

#define GPU_CTRL_QUEUE   0
#define GPU_CURSOR_QUEUE 1
/* QEMU's sizes for a 2D device (the control queue is 256 with virgl,
 * and for the rutabaga device here: fenced commands wait in it). */
#define GPU_CTRL_QUEUE_SIZE    64
#define GPU_CTRL_QUEUE_SIZE_3D 256
#define GPU_CURSOR_QUEUE_SIZE  16
/* Backing entries copied out of a chain per virtq_read(). */
#define GPU_ENTRY_CHUNK 256u

struct gpu_head {
    struct ui_console *con;
    /* What GET_DISPLAY_INFO and GET_EDID report. */
    uint32_t width, height;
    bool enabled;
    /* What gfx shows on it: the image (gfx's) and the rectangle of it,
     * image NULL while the scanout is disabled. */
    pixman_image_t *image;
    struct gfx_rect rect;
    /* The console's current surface size (0 x 0: disabled). */
    uint32_t con_w, con_h;
};

union gpu_response;

/* A fenced command whose response is written but held until its fence
 * signals. */
struct gpu_pending {
    uint16_t head;
    uint32_t written;
    uint64_t in_len;
    uint32_t ctx_id, ring_idx; /* ring_idx GFX_RING_GLOBAL: global */
    uint64_t fence_id;
};

struct virtio_gpu {
    /* The cross-domain component's event fd, watched on the main loop
     * while cd_watched (see gpu_cd_events). */
    int cd_fd;
    bool cd_watched;
    struct virtio_dev vdev;
    struct gfx *gfx;
    bool rutabaga; /* virtio-gpu-rutabaga-device: contexts, blobs */
    const char *name;
    uint64_t
        host_visible; /* bytes of shm region VIRTIO_GPU_SHM_ID_HOST_VISIBLE */
    /* Held fenced commands, in the order they came (at most the queue
     * size: each holds a descriptor chain). */
    struct gpu_pending *pending;
    uint32_t n_pending;
    bool ctrl_pushed;
    struct virtq_elem *push_elem; /* scratch for pushing a held command */
    union gpu_response *resp;     /* the response being built */
    uint32_t num_heads;
    uint32_t xres, yres;
    bool edid;
    uint64_t max_hostmem;
    uint64_t con_bytes; /* sum of the consoles' surfaces */
    uint32_t events_read;
    struct gpu_head heads[VIRTIO_GPU_MAX_SCANOUTS];
    struct virtq_elem elem;
};

/* Every request the device reads past the header, for one copy-out. */
union gpu_request {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_resource_create_2d create_2d;
    struct virtio_gpu_resource_unref unref;
    struct virtio_gpu_set_scanout set_scanout;
    struct virtio_gpu_resource_flush flush;
    struct virtio_gpu_transfer_to_host_2d transfer;
    struct virtio_gpu_resource_attach_backing attach;
    struct virtio_gpu_resource_detach_backing detach;
    struct virtio_gpu_cmd_get_edid get_edid;
    struct virtio_gpu_update_cursor cursor;
    struct virtio_gpu_get_capset_info get_capset_info;
    struct virtio_gpu_get_capset get_capset;
    struct virtio_gpu_ctx_create ctx_create;
    struct virtio_gpu_ctx_resource ctx_resource;
    struct virtio_gpu_cmd_submit submit;
    struct virtio_gpu_transfer_host_3d transfer_3d;
    struct virtio_gpu_resource_create_blob create_blob;
    struct virtio_gpu_set_scanout_blob scanout_blob;
    struct virtio_gpu_resource_map_blob map_blob;
    struct virtio_gpu_resource_unmap_blob unmap_blob;
    struct virtio_gpu_resource_assign_uuid assign_uuid;
};

union gpu_response {
    struct virtio_gpu_ctrl_hdr hdr;
    struct virtio_gpu_resp_display_info display_info;
    struct virtio_gpu_resp_edid edid;
    struct virtio_gpu_resp_capset_info capset_info;
    struct virtio_gpu_resp_resource_uuid uuid;
    struct virtio_gpu_resp_map_info map_info;
    uint8_t capset[sizeof(struct virtio_gpu_resp_capset) + GFX_MAX_CAPSET_SIZE];
};

/* ---- configuration checks (shared by -device and virtio_gpu_new) ---- */

static int gpu_check_conf(const char *name, uint64_t outputs, uint64_t xres,
                          uint64_t yres, uint64_t max_hostmem,
                          struct error *err)
{
    char on[64];
    snprintf(on, sizeof(on), "-device %s", name);
    if (outputs < 1 || outputs > VIRTIO_GPU_MAX_SCANOUTS) {
        return err_set(err, -EINVAL, "%s: max_outputs=%llu: must be 1..%u", on,
                       (unsigned long long)outputs, VIRTIO_GPU_MAX_SCANOUTS);
    }
    if (xres < 1 || xres > VIRTIO_GPU_MAX_RES) {
        return err_set(err, -EINVAL, "%s: xres=%llu: must be 1..%u", on,
                       (unsigned long long)xres, VIRTIO_GPU_MAX_RES);
    }
    if (yres < 1 || yres > VIRTIO_GPU_MAX_RES) {
        return err_set(err, -EINVAL, "%s: yres=%llu: must be 1..%u", on,
                       (unsigned long long)yres, VIRTIO_GPU_MAX_RES);
    }
    if (max_hostmem == 0) {
        return err_set(err, -EINVAL, "%s: max_hostmem=0: must be more than 0",
                       on);
    }
    return 0;
}

/* ---- EDID (VESA E-EDID 1.4 base block) ---- */

/* A display descriptor holding up to 13 characters of text. */
static void gpu_edid_text(uint8_t *d, uint8_t tag, const char *s)
{
    size_t n = strlen(s);
    memset(d, 0, 18);
    d[3] = tag;
    memset(d + 5, ' ', 13);
    memcpy(d + 5, s, n);
    if (n < 13) {
        d[5 + n] = '\n';
    }
}

/* The first detailed timing: w x h at 60 Hz (lower if the pixel clock
 * would not fit its 16 bits), CVT reduced-blanking-like porches. */
static void gpu_edid_timing(uint8_t *d, uint32_t w, uint32_t h, uint32_t wmm,
                            uint32_t hmm)
{
    const uint32_t hblank = 160, hfront = 48, hsync = 32;
    const uint32_t vfront = 3, vsync = 6, vblank = h / 30 + 16;
    uint64_t frame = (uint64_t)(w + hblank) * (h + vblank);
    const uint64_t max_clock = 65535ull * 10000; /* Hz */
    uint64_t refresh = 60;
    if (frame * refresh > max_clock) {
        refresh = max_clock / frame;
    }
    uint64_t clock = (frame * refresh + 9999) / 10000; /* 10 kHz units */
    d[0] = (uint8_t)clock;
    d[1] = (uint8_t)(clock >> 8);
    d[2] = (uint8_t)w;
    d[3] = (uint8_t)hblank;
    d[4] = (uint8_t)(((w >> 8) & 0xf) << 4 | ((hblank >> 8) & 0xf));
    d[5] = (uint8_t)h;
    d[6] = (uint8_t)vblank;
    d[7] = (uint8_t)(((h >> 8) & 0xf) << 4 | ((vblank >> 8) & 0xf));
    d[8] = (uint8_t)hfront;
    d[9] = (uint8_t)hsync;
    d[10] = (uint8_t)((vfront & 0xf) << 4 | (vsync & 0xf));
    d[11] = (uint8_t)(((hfront >> 8) & 3) << 6 | ((hsync >> 8) & 3) << 4 |
                      ((vfront >> 4) & 3) << 2 | ((vsync >> 4) & 3));
    d[12] = (uint8_t)wmm;
    d[13] = (uint8_t)hmm;
    d[14] = (uint8_t)(((wmm >> 8) & 0xf) << 4 | ((hmm >> 8) & 0xf));
    d[15] = 0; /* no border */
    d[16] = 0;
    d[17] = 0x18; /* non-interlaced, digital separate sync */
}

void virtio_gpu_edid(uint8_t out[VIRTIO_GPU_EDID_SIZE], uint32_t w, uint32_t h)
{
    static const uint8_t magic[8] = { 0x00, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0x00 };
    /* sRGB primaries and D65 white, x and y in 1/1024 (10 bits each):
     * red, green, blue, white. */
    static const uint16_t chroma[8] = { 655, 338, 307, 614, 154, 61, 320, 337 };
    uint8_t *e = out;

    w = w < 1 ? 1 : w > VIRTIO_GPU_MAX_RES ? VIRTIO_GPU_MAX_RES : w;
    h = h < 1 ? 1 : h > VIRTIO_GPU_MAX_RES ? VIRTIO_GPU_MAX_RES : h;
    memset(e, 0, VIRTIO_GPU_EDID_SIZE);
    memcpy(e, magic, sizeof(magic));
    /* QEMU's identity: PNP id "RHT", product 0x1234, "QEMU Monitor". */
    uint16_t pnp = ('R' - '@') << 10 | ('H' - '@') << 5 | ('T' - '@');
    e[8] = (uint8_t)(pnp >> 8);
    e[9] = (uint8_t)pnp;
    e[10] = 0x34;
    e[11] = 0x12;
    e[16] = 42;          /* week of manufacture */
    e[17] = 2014 - 1990; /* year */
    e[18] = 1;           /* EDID 1.4 */
    e[19] = 4;
    e[20] = 0xa5; /* digital, 8 bits per colour, DisplayPort */
    /* 100 dpi: 0.254 mm a pixel. Both sizes non-zero, or the one that is
     * not would be read as an aspect ratio. */
    uint32_t wmm = (w * 254 + 500) / 1000, hmm = (h * 254 + 500) / 1000;
    e[21] = (uint8_t)(wmm / 10 ? wmm / 10 : 1);
    e[22] = (uint8_t)(hmm / 10 ? hmm / 10 : 1);
    e[23] = 120;  /* gamma 2.2 */
    e[24] = 0x06; /* RGB 4:4:4, sRGB default, preferred timing is native */
    e[25] = (uint8_t)((chroma[0] & 3) << 6 | (chroma[1] & 3) << 4 |
                      (chroma[2] & 3) << 2 | (chroma[3] & 3));
    e[26] = (uint8_t)((chroma[4] & 3) << 6 | (chroma[5] & 3) << 4 |
                      (chroma[6] & 3) << 2 | (chroma[7] & 3));
    for (int i = 0; i < 8; i++) {
        e[27 + i] = (uint8_t)(chroma[i] >> 2);
    }
    /* Established timings that fit the head. */
    if (w >= 640 && h >= 480) {
        e[35] |= 1 << 5; /* 640x480@60 */
    }
    if (w >= 800 && h >= 600) {
        e[35] |= 1 << 0; /* 800x600@60 */
    }
    if (w >= 1024 && h >= 768) {
        e[36] |= 1 << 3; /* 1024x768@60 */
    }
    for (int i = 38; i < 54; i++) {
        e[i] = 0x01; /* standard timings unused */
    }
    gpu_edid_timing(e + 54, w, h, wmm, hmm);
    gpu_edid_text(e + 72, 0xfc, "QEMU Monitor");
    e[90 + 3] = 0x10; /* dummy descriptors */
    e[108 + 3] = 0x10;
    e[126] = 0; /* no extension blocks */
    uint8_t sum = 0;
    for (int i = 0; i < 127; i++) {
        sum = (uint8_t)(sum + e[i]);
    }
    e[127] = (uint8_t)(0x100 - sum);
}

/* ---- heads and the display ---- */

static void gpu_heads_default(struct virtio_gpu *g)
{
    for (uint32_t i = 0; i < g->num_heads; i++) {
        g->heads[i].width = g->xres;
        g->heads[i].height = g->yres;
        g->heads[i].enabled = i == 0;
    }
}

/* Resize head n's console to w x h (0 x 0: disabled) if it is not that
 * size already, within the budget for console surfaces. false: over the
 * budget, and the console is disabled instead. */
static bool gpu_console_resize(struct virtio_gpu *g, uint32_t n, uint32_t w,
                               uint32_t h)
{
    struct gpu_head *hd = &g->heads[n];
    if (w == hd->con_w && h == hd->con_h) {
        return true;
    }
    uint64_t old = (uint64_t)hd->con_w * hd->con_h * 4;
    uint64_t want = (uint64_t)w * h * 4;
    bool ok = want <= g->max_hostmem - (g->con_bytes - old);
    if (!ok) {
        log_guest("virtio-gpu: scanout %u: a %ux%u display surface would "
                  "pass max_hostmem (%llu bytes); not shown",
                  n, w, h, (unsigned long long)g->max_hostmem);
        w = h = 0;
        want = 0;
    }
    g->con_bytes = g->con_bytes - old + want;
    hd->con_w = w;
    hd->con_h = h;
    ui_console_resize(hd->con, w, h);
    return ok;
}

static void gpu_scanout_set(void *opaque, uint32_t n, pixman_image_t *image,
                            const struct gfx_rect *r)
{
    struct virtio_gpu *g = opaque;
    struct gpu_head *hd = &g->heads[n];
    /* Disabled, or too big to show: a disabled console. */
    if (!image || !gpu_console_resize(g, n, r->width, r->height)) {
        gpu_console_resize(g, n, 0, 0);
        hd->image = NULL;
        memset(&hd->rect, 0, sizeof(hd->rect));
        return;
    }
    hd->image = image;
    hd->rect = *r;
    /* Inside a resource, so below 2^29 (gfx keeps width * 4 in an int). */
    struct ui_rect all = { 0, 0, r->width, r->height };
    ui_console_blit(hd->con, image, (int32_t)r->x, (int32_t)r->y, &all);
}

static void gpu_scanout_damage(void *opaque, uint32_t n,
                               const struct gfx_rect *r)
{
    struct virtio_gpu *g = opaque;
    struct gpu_head *hd = &g->heads[n];
    if (!hd->image) {
        return;
    }
    struct ui_rect dst = { (int32_t)r->x, (int32_t)r->y, r->width, r->height };
    ui_console_blit(hd->con, hd->image, (int32_t)(hd->rect.x + r->x),
                    (int32_t)(hd->rect.y + r->y), &dst);
}

static void gpu_cursor_update(void *opaque, uint32_t n,
                              const struct gfx_cursor *c)
{
    struct virtio_gpu *g = opaque;
    struct ui_console *con = g->heads[n].con;
    ui_console_set_cursor(con, c->image, c->hot_x, c->hot_y);
    ui_console_move_cursor(con, c->x, c->y);
}

static void gpu_cursor_move(void *opaque, uint32_t n, int32_t x, int32_t y)
{
    struct virtio_gpu *g = opaque;
    ui_console_move_cursor(g->heads[n].con, x, y);
}

static void gpu_fence_signalled(void *opaque, uint32_t ctx_id,
                                uint32_t ring_idx, uint64_t fence_id);

static const struct gfx_listener gpu_listener = {
    .scanout_set = gpu_scanout_set,
    .scanout_damage = gpu_scanout_damage,
    .cursor_update = gpu_cursor_update,
    .cursor_move = gpu_cursor_move,
    .fence_signalled = gpu_fence_signalled,
};

/* A backend wants head `head` to be w x h (0: disable it). Main-loop
 * thread, without the device lock. */
static void gpu_request_size(void *opaque, uint32_t head, uint32_t w,
                             uint32_t h)
{
    struct virtio_gpu *g = opaque;
    if (head >= g->num_heads) {
        return;
    }
    w = w > VIRTIO_GPU_MAX_RES ? VIRTIO_GPU_MAX_RES : w;
    h = h > VIRTIO_GPU_MAX_RES ? VIRTIO_GPU_MAX_RES : h;
    bool enabled = w && h;
    dev_lock();
    struct gpu_head *hd = &g->heads[head];
    if (enabled != hd->enabled ||
        (enabled && (w != hd->width || h != hd->height))) {
        hd->enabled = enabled;
        if (enabled) {
            /* A disabled head keeps its last size for GET_EDID. */
            hd->width = w;
            hd->height = h;
        }
        g->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
        virtio_config_changed(&g->vdev);
    }
    dev_unlock();
}

static const struct ui_producer_ops gpu_producer_ops = {
    .request_size = gpu_request_size,
};

/* ---- control queue ---- */

static const char *gpu_cmd_name(uint32_t type)
{
    switch (type) {
    case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
        return "get_display_info";
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
        return "resource_create_2d";
    case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return "resource_unref";
    case VIRTIO_GPU_CMD_SET_SCANOUT:
        return "set_scanout";
    case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
        return "resource_flush";
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
        return "transfer_to_host_2d";
    case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return "resource_attach_backing";
    case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        return "resource_detach_backing";
    case VIRTIO_GPU_CMD_GET_EDID:
        return "get_edid";
    case VIRTIO_GPU_CMD_UPDATE_CURSOR:
        return "update_cursor";
    case VIRTIO_GPU_CMD_MOVE_CURSOR:
        return "move_cursor";
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
        return "get_capset_info";
    case VIRTIO_GPU_CMD_GET_CAPSET:
        return "get_capset";
    case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
        return "resource_assign_uuid";
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
        return "resource_create_blob";
    case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
        return "set_scanout_blob";
    case VIRTIO_GPU_CMD_CTX_CREATE:
        return "ctx_create";
    case VIRTIO_GPU_CMD_CTX_DESTROY:
        return "ctx_destroy";
    case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
        return "ctx_attach_resource";
    case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
        return "ctx_detach_resource";
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
        return "resource_create_3d";
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
        return "transfer_to_host_3d";
    case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
        return "transfer_from_host_3d";
    case VIRTIO_GPU_CMD_SUBMIT_3D:
        return "submit_3d";
    case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
        return "resource_map_blob";
    case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
        return "resource_unmap_blob";
    default:
        return "command";
    }
}

/* Bytes the request of this type must have (its struct). */
static size_t gpu_cmd_size(uint32_t type)
{
    switch (type) {
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
        return sizeof(struct virtio_gpu_resource_create_2d);
    case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return sizeof(struct virtio_gpu_resource_unref);
    case VIRTIO_GPU_CMD_SET_SCANOUT:
        return sizeof(struct virtio_gpu_set_scanout);
    case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
        return sizeof(struct virtio_gpu_resource_flush);
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
        return sizeof(struct virtio_gpu_transfer_to_host_2d);
    case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return sizeof(struct virtio_gpu_resource_attach_backing);
    case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        return sizeof(struct virtio_gpu_resource_detach_backing);
    case VIRTIO_GPU_CMD_GET_EDID:
        return sizeof(struct virtio_gpu_cmd_get_edid);
    case VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case VIRTIO_GPU_CMD_MOVE_CURSOR:
        return sizeof(struct virtio_gpu_update_cursor);
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
        return sizeof(struct virtio_gpu_get_capset_info);
    case VIRTIO_GPU_CMD_GET_CAPSET:
        return sizeof(struct virtio_gpu_get_capset);
    case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
        return sizeof(struct virtio_gpu_resource_assign_uuid);
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
        return sizeof(struct virtio_gpu_resource_create_blob);
    case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
        return sizeof(struct virtio_gpu_set_scanout_blob);
    case VIRTIO_GPU_CMD_CTX_CREATE:
        return sizeof(struct virtio_gpu_ctx_create);
    case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
        return sizeof(struct virtio_gpu_ctx_resource);
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
        return sizeof(struct virtio_gpu_transfer_host_3d);
    case VIRTIO_GPU_CMD_SUBMIT_3D:
        return sizeof(struct virtio_gpu_cmd_submit);
    case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
        return sizeof(struct virtio_gpu_resource_map_blob);
    case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
        return sizeof(struct virtio_gpu_resource_unmap_blob);
    default:
        return sizeof(struct virtio_gpu_ctrl_hdr);
    }
}

/* Size of capset id's payload, 0 if it is not offered. */
static uint32_t gpu_capset_size(struct virtio_gpu *g, uint32_t id)
{
    for (uint32_t i = 0; i < gfx_num_capsets(g->gfx); i++) {
        uint32_t cid, ver, size;
        if (gfx_get_capset_info(g->gfx, i, &cid, &ver, &size) ==
                VIRTIO_GPU_RESP_OK_CAPSET_INFO &&
            cid == id) {
            return size;
        }
    }
    return 0;
}

/* Bytes of response buffer the request must come with: its successful
 * answer. */
static size_t gpu_resp_size(struct virtio_gpu *g, uint32_t type,
                            const union gpu_request *req)
{
    if (type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO) {
        return sizeof(struct virtio_gpu_resp_display_info);
    }
    if (g->rutabaga) {
        switch (type) {
        case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
            return sizeof(struct virtio_gpu_resp_capset_info);
        case VIRTIO_GPU_CMD_GET_CAPSET:
            return sizeof(struct virtio_gpu_resp_capset) +
                   gpu_capset_size(g, le32toh(req->get_capset.capset_id));
        case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
            return sizeof(struct virtio_gpu_resp_resource_uuid);
        case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
            return sizeof(struct virtio_gpu_resp_map_info);
        }
    }
    if (type == VIRTIO_GPU_CMD_GET_EDID &&
        virtio_has_feature(&g->vdev, VIRTIO_GPU_F_EDID)) {
        return sizeof(struct virtio_gpu_resp_edid);
    }
    return sizeof(struct virtio_gpu_ctrl_hdr);
}

static struct gfx_rect gpu_rect(const struct virtio_gpu_rect *r)
{
    return (struct gfx_rect){ le32toh(r->x), le32toh(r->y), le32toh(r->width),
                              le32toh(r->height) };
}

static uint32_t gpu_get_display_info(struct virtio_gpu *g,
                                     struct virtio_gpu_resp_display_info *di)
{
    for (uint32_t i = 0; i < g->num_heads; i++) {
        const struct gpu_head *hd = &g->heads[i];
        if (!hd->enabled) {
            continue;
        }
        di->pmodes[i].r.width = htole32(hd->width);
        di->pmodes[i].r.height = htole32(hd->height);
        di->pmodes[i].enabled = htole32(1);
    }
    return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t gpu_get_edid(struct virtio_gpu *g,
                             const struct virtio_gpu_cmd_get_edid *c,
                             struct virtio_gpu_resp_edid *r)
{
    if (!virtio_has_feature(&g->vdev, VIRTIO_GPU_F_EDID)) {
        log_guest("virtio-gpu: get_edid without VIRTIO_GPU_F_EDID");
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    uint32_t n = le32toh(c->scanout);
    if (n >= g->num_heads) {
        log_guest("virtio-gpu: get_edid: no scanout %u (%u configured)", n,
                  g->num_heads);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    virtio_gpu_edid(r->edid, g->heads[n].width, g->heads[n].height);
    r->size = htole32(VIRTIO_GPU_EDID_SIZE);
    return VIRTIO_GPU_RESP_OK_EDID;
}

/* n mem entries follow the request (of req_size bytes) in the chain;
 * check their number and that the chain holds them all, then read them in
 * chunks with bounded copies into *out (the caller frees it). n 0 gives
 * NULL. */
static uint32_t gpu_read_entries(struct virtio_gpu *g, const char *cmd,
                                 uint32_t id, size_t req_size, uint32_t n,
                                 struct gfx_iovec **out)
{
    const struct virtq_elem *e = &g->elem;
    *out = NULL;
    if (n > GFX_MAX_BACKING_ENTRIES) {
        log_guest("virtio-gpu: %s: resource %u: %u entries (max %u)", cmd, id,
                  n, GFX_MAX_BACKING_ENTRIES);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint64_t need =
        req_size + (uint64_t)n * sizeof(struct virtio_gpu_mem_entry);
    if (e->out_len < need) {
        log_guest("virtio-gpu: %s: resource %u: %u entries need %llu "
                  "request bytes, the chain has %llu",
                  cmd, id, n, (unsigned long long)need,
                  (unsigned long long)e->out_len);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
    if (n == 0) {
        return VIRTIO_GPU_RESP_OK_NODATA;
    }
    struct gfx_iovec *iov = calloc(n, sizeof(*iov));
    if (!iov) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    struct virtio_gpu_mem_entry chunk[GPU_ENTRY_CHUNK];
    for (uint32_t i = 0; i < n; i += GPU_ENTRY_CHUNK) {
        uint32_t k = n - i < GPU_ENTRY_CHUNK ? n - i : GPU_ENTRY_CHUNK;
        size_t off = req_size + (size_t)i * sizeof(chunk[0]);
        /* Cannot come up short: out_len was checked above. */
        virtq_read(e, off, chunk, k * sizeof(chunk[0]));
        for (uint32_t j = 0; j < k; j++) {
            iov[i + j].gpa = le64toh(chunk[j].addr);
            iov[i + j].len = le32toh(chunk[j].length);
        }
    }
    *out = iov;
    return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t
gpu_attach_backing(struct virtio_gpu *g,
                   const struct virtio_gpu_resource_attach_backing *c)
{
    uint32_t id = le32toh(c->resource_id), n = le32toh(c->nr_entries);
    if (n == 0) {
        log_guest("virtio-gpu: resource_attach_backing: resource %u: no "
                  "entries",
                  id);
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    struct gfx_iovec *iov;
    uint32_t resp =
        gpu_read_entries(g, "resource_attach_backing", id, sizeof(*c), n, &iov);
    if (resp == VIRTIO_GPU_RESP_OK_NODATA) {
        resp = gfx_resource_attach_backing(g->gfx, id, iov, n);
    }
    free(iov);
    return resp;
}

static uint32_t gpu_create_blob(struct virtio_gpu *g,
                                const struct virtio_gpu_resource_create_blob *c)
{
    uint32_t id = le32toh(c->resource_id), n = le32toh(c->nr_entries);
    struct gfx_iovec *iov;
    uint32_t resp =
        gpu_read_entries(g, "resource_create_blob", id, sizeof(*c), n, &iov);
    if (resp == VIRTIO_GPU_RESP_OK_NODATA) {
        resp = gfx_resource_create_blob(
            g->gfx, le32toh(c->hdr.ctx_id), id, le32toh(c->blob_mem),
            le32toh(c->blob_flags), le64toh(c->blob_id), le64toh(c->size), iov,
            n);
    }
    free(iov);
    return resp;
}

static uint32_t gpu_submit(struct virtio_gpu *g,
                           const struct virtio_gpu_cmd_submit *c)
{
    const struct virtq_elem *e = &g->elem;
    uint32_t size = le32toh(c->size);
    if (size > GFX_MAX_SUBMIT || e->out_len < sizeof(*c) + (uint64_t)size) {
        log_guest("virtio-gpu: submit_3d: %u bytes (max %u), the chain has "
                  "%llu",
                  size, GFX_MAX_SUBMIT,
                  (unsigned long long)(e->out_len - sizeof(*c)));
        return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
    }
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) {
        return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
    }
    virtq_read(e, sizeof(*c), buf, size);
    uint32_t resp = gfx_submit_3d(g->gfx, le32toh(c->hdr.ctx_id), buf, size);
    free(buf);
    return resp;
}

/* The 3D and blob commands of the rutabaga device. */
static uint32_t gpu_ctrl_3d(struct virtio_gpu *g, uint32_t type,
                            const union gpu_request *req,
                            union gpu_response *resp)
{
    uint32_t ctx_id = le32toh(req->hdr.ctx_id);
    switch (type) {
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO: {
        uint32_t id, ver, size;
        uint32_t r = gfx_get_capset_info(
            g->gfx, le32toh(req->get_capset_info.capset_index), &id, &ver,
            &size);
        resp->capset_info.capset_id = htole32(id);
        resp->capset_info.capset_max_version = htole32(ver);
        resp->capset_info.capset_max_size = htole32(size);
        return r;
    }
    case VIRTIO_GPU_CMD_GET_CAPSET: {
        uint32_t size;
        return gfx_get_capset(g->gfx, le32toh(req->get_capset.capset_id),
                              le32toh(req->get_capset.capset_version),
                              resp->capset +
                                  sizeof(struct virtio_gpu_resp_capset),
                              GFX_MAX_CAPSET_SIZE, &size);
    }
    case VIRTIO_GPU_CMD_CTX_CREATE: {
        const struct virtio_gpu_ctx_create *c = &req->ctx_create;
        return gfx_ctx_create(g->gfx, ctx_id, le32toh(c->context_init),
                              c->debug_name, le32toh(c->nlen));
    }
    case VIRTIO_GPU_CMD_CTX_DESTROY:
        return gfx_ctx_destroy(g->gfx, ctx_id);
    case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
        return gfx_ctx_attach_resource(g->gfx, ctx_id,
                                       le32toh(req->ctx_resource.resource_id));
    case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
        return gfx_ctx_detach_resource(g->gfx, ctx_id,
                                       le32toh(req->ctx_resource.resource_id));
    case VIRTIO_GPU_CMD_SUBMIT_3D:
        return gpu_submit(g, &req->submit);
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D: {
        const struct virtio_gpu_transfer_host_3d *c = &req->transfer_3d;
        struct gfx_transfer_3d t = {
            .x = le32toh(c->box.x),
            .y = le32toh(c->box.y),
            .z = le32toh(c->box.z),
            .w = le32toh(c->box.w),
            .h = le32toh(c->box.h),
            .d = le32toh(c->box.d),
            .level = le32toh(c->level),
            .stride = le32toh(c->stride),
            .layer_stride = le32toh(c->layer_stride),
            .offset = le64toh(c->offset),
        };
        return gfx_transfer_3d(g->gfx, ctx_id, le32toh(c->resource_id), &t,
                               type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D);
    }
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
        return gpu_create_blob(g, &req->create_blob);
    case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB: {
        uint32_t info = 0;
        uint32_t r =
            gfx_resource_map_blob(g->gfx, le32toh(req->map_blob.resource_id),
                                  le64toh(req->map_blob.offset), &info);
        resp->map_info.map_info = htole32(info);
        return r;
    }
    case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
        return gfx_resource_unmap_blob(g->gfx,
                                       le32toh(req->unmap_blob.resource_id));
    case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
        return gfx_resource_assign_uuid(
            g->gfx, le32toh(req->assign_uuid.resource_id), resp->uuid.uuid);
    case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB: {
        const struct virtio_gpu_set_scanout_blob *c = &req->scanout_blob;
        struct gfx_rect r = gpu_rect(&c->r);
        return gfx_set_scanout_blob(
            g->gfx, le32toh(c->scanout_id), le32toh(c->resource_id), &r,
            le32toh(c->width), le32toh(c->height), le32toh(c->format),
            le32toh(c->strides[0]), le32toh(c->offsets[0]));
    }
    default: /* RESOURCE_CREATE_3D: no context type here makes them */
        log_guest("virtio-gpu: %s is not supported", gpu_cmd_name(type));
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
}

/* Run one control command (its request, long enough for its type, is in
 * req; the chain is g->elem); fills the payload of resp and returns the
 * response type. */
static uint32_t gpu_ctrl_dispatch(struct virtio_gpu *g, uint32_t type,
                                  const union gpu_request *req,
                                  union gpu_response *resp)
{
    switch (type) {
    case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
        return gpu_get_display_info(g, &resp->display_info);
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: {
        const struct virtio_gpu_resource_create_2d *c = &req->create_2d;
        return gfx_resource_create_2d(g->gfx, le32toh(c->resource_id),
                                      le32toh(c->format), le32toh(c->width),
                                      le32toh(c->height));
    }
    case VIRTIO_GPU_CMD_RESOURCE_UNREF:
        return gfx_resource_unref(g->gfx, le32toh(req->unref.resource_id));
    case VIRTIO_GPU_CMD_SET_SCANOUT: {
        const struct virtio_gpu_set_scanout *c = &req->set_scanout;
        struct gfx_rect r = gpu_rect(&c->r);
        return gfx_set_scanout(g->gfx, le32toh(c->scanout_id),
                               le32toh(c->resource_id), &r);
    }
    case VIRTIO_GPU_CMD_RESOURCE_FLUSH: {
        const struct virtio_gpu_resource_flush *c = &req->flush;
        struct gfx_rect r = gpu_rect(&c->r);
        return gfx_resource_flush(g->gfx, le32toh(c->resource_id), &r);
    }
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: {
        const struct virtio_gpu_transfer_to_host_2d *c = &req->transfer;
        struct gfx_rect r = gpu_rect(&c->r);
        return gfx_transfer_to_host_2d(g->gfx, le32toh(c->resource_id), &r,
                                       le64toh(c->offset));
    }
    case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
        return gpu_attach_backing(g, &req->attach);
    case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
        return gfx_resource_detach_backing(g->gfx,
                                           le32toh(req->detach.resource_id));
    case VIRTIO_GPU_CMD_GET_EDID:
        return gpu_get_edid(g, &req->get_edid, &resp->edid);
    case VIRTIO_GPU_CMD_GET_CAPSET_INFO:
    case VIRTIO_GPU_CMD_GET_CAPSET:
    case VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID:
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB:
    case VIRTIO_GPU_CMD_SET_SCANOUT_BLOB:
    case VIRTIO_GPU_CMD_CTX_CREATE:
    case VIRTIO_GPU_CMD_CTX_DESTROY:
    case VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE:
    case VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE:
    case VIRTIO_GPU_CMD_RESOURCE_CREATE_3D:
    case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D:
    case VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D:
    case VIRTIO_GPU_CMD_SUBMIT_3D:
    case VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB:
    case VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB:
        if (g->rutabaga) {
            return gpu_ctrl_3d(g, type, req, resp);
        }
        log_guest("virtio-gpu: command %#x needs a feature that is not "
                  "offered",
                  type);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    case VIRTIO_GPU_CMD_UPDATE_CURSOR:
    case VIRTIO_GPU_CMD_MOVE_CURSOR:
        log_guest("virtio-gpu: %s on the control queue", gpu_cmd_name(type));
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    default:
        log_guest("virtio-gpu: unknown command %#x", type);
        return VIRTIO_GPU_RESP_ERR_UNSPEC;
    }
}

/* ---- fences ----
 *
 * A fenced command runs like any other, and its response (with FENCE,
 * fence_id, ctx_id and, with INFO_RING_IDX, ring_idx echoed) is written
 * at once; but on the rutabaga device the chain is only pushed when gfx
 * reports its fence signalled. Until then it waits in g->pending, and the
 * control queue goes on with the next chains: a fence held on one
 * (context, ring) holds nothing else. gfx reports "fence_id and all
 * before it on this timeline", so every held command of that timeline
 * with an id not above it is pushed, oldest first. The global timeline
 * (no INFO_RING_IDX) is signalled as soon as its command has run. The
 * pending array never overflows: each entry holds a descriptor chain, and
 * there are at most queue-size chains.
 */

static void gpu_push_pending(struct virtio_gpu *g, const struct gpu_pending *p)
{
    g->push_elem->head = p->head;
    g->push_elem->in_len = p->in_len;
    virtq_push(&g->vdev.vq[GPU_CTRL_QUEUE], g->push_elem, p->written);
    g->ctrl_pushed = true;
}

static void gpu_fence_signalled(void *opaque, uint32_t ctx_id,
                                uint32_t ring_idx, uint64_t fence_id)
{
    struct virtio_gpu *g = opaque;
    uint32_t k = 0;
    for (uint32_t i = 0; i < g->n_pending; i++) {
        struct gpu_pending *p = &g->pending[i];
        bool same = p->ring_idx == ring_idx &&
                    (ring_idx == GFX_RING_GLOBAL || p->ctx_id == ctx_id);
        if (same && p->fence_id <= fence_id) {
            gpu_push_pending(g, p);
        } else {
            g->pending[k++] = *p;
        }
    }
    g->n_pending = k;
}

static void gpu_notify_ctrl(struct virtio_gpu *g)
{
    if (g->ctrl_pushed) {
        g->ctrl_pushed = false;
        virtio_notify(&g->vdev, GPU_CTRL_QUEUE);
    }
}

/* Main loop: deliver fence signals components queued from their threads. */
static void gpu_fence_bh(void *opaque)
{
    struct virtio_gpu *g = opaque;
    dev_lock();
    gfx_fence_poll(g->gfx);
    gpu_notify_ctrl(g);
    dev_unlock();
}

/* Any thread, no lock: see gfx_config.wakeup. */
static void gpu_fence_wakeup(void *opaque)
{
    loop_call(gpu_fence_bh, opaque);
}

void virtio_gpu_fence_poll(struct virtio_gpu *g)
{
    gfx_fence_poll(g->gfx);
    gpu_notify_ctrl(g);
}

/* One popped control chain: decode, run, answer, push (or hold until
 * its fence signals). */
static void gpu_ctrl_one(struct virtio_gpu *g, struct virtq *q)
{
    struct virtq_elem *e = &g->elem;
    union gpu_request req;
    memset(&req, 0, sizeof(req));
    size_t got = virtq_read(e, 0, &req, sizeof(req));
    bool has_hdr = got >= sizeof(req.hdr);
    uint32_t type = has_hdr ? le32toh(req.hdr.type) : 0;

    size_t resp_len = gpu_resp_size(g, type, &req);
    if (e->in_len < resp_len) {
        log_guest("virtio-gpu: %s %#x: response buffer of %llu bytes, "
                  "needs %zu; not run",
                  gpu_cmd_name(type), type, (unsigned long long)e->in_len,
                  resp_len);
        virtq_push(q, e, 0);
        g->ctrl_pushed = true;
        return;
    }

    union gpu_response *resp = g->resp;
    memset(resp, 0, resp_len);
    uint32_t rtype;
    if (!has_hdr) {
        log_guest("virtio-gpu: request of %llu bytes has no header",
                  (unsigned long long)e->out_len);
        rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;
    } else if (e->out_len < gpu_cmd_size(type)) {
        log_guest("virtio-gpu: %s: request of %llu bytes, needs %zu",
                  gpu_cmd_name(type), (unsigned long long)e->out_len,
                  gpu_cmd_size(type));
        rtype = VIRTIO_GPU_RESP_ERR_UNSPEC;
    } else {
        rtype = gpu_ctrl_dispatch(g, type, &req, resp);
    }
    if (rtype != VIRTIO_GPU_RESP_OK_DISPLAY_INFO &&
        rtype != VIRTIO_GPU_RESP_OK_EDID &&
        rtype != VIRTIO_GPU_RESP_OK_CAPSET_INFO &&
        rtype != VIRTIO_GPU_RESP_OK_CAPSET &&
        rtype != VIRTIO_GPU_RESP_OK_RESOURCE_UUID &&
        rtype != VIRTIO_GPU_RESP_OK_MAP_INFO) {
        resp_len = sizeof(resp->hdr);
    }
    resp->hdr.type = htole32(rtype);
    uint32_t flags = has_hdr ? le32toh(req.hdr.flags) : 0;
    bool fenced = flags & VIRTIO_GPU_FLAG_FENCE;
    uint32_t ring = GFX_RING_GLOBAL;
    if (fenced) {
        uint32_t rflags = VIRTIO_GPU_FLAG_FENCE;
        resp->hdr.fence_id = req.hdr.fence_id;
        resp->hdr.ctx_id = req.hdr.ctx_id;
        if (flags & VIRTIO_GPU_FLAG_INFO_RING_IDX) {
            rflags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
            resp->hdr.ring_idx = req.hdr.ring_idx;
            ring = req.hdr.ring_idx;
        }
        resp->hdr.flags = htole32(rflags);
    }
    size_t w = virtq_write(e, 0, resp, resp_len);
    /* 2D work is synchronous; failed commands are answered at once. */
    if (!fenced || !g->rutabaga || rtype >= VIRTIO_GPU_RESP_ERR_UNSPEC) {
        virtq_push(q, e, (uint32_t)w);
        g->ctrl_pushed = true;
        return;
    }
    struct gpu_pending *p = &g->pending[g->n_pending++];
    *p = (struct gpu_pending){
        .head = e->head,
        .written = (uint32_t)w,
        .in_len = e->in_len,
        .ctx_id = le32toh(req.hdr.ctx_id),
        .ring_idx = ring,
        .fence_id = le64toh(req.hdr.fence_id),
    };
    uint32_t r = gfx_create_fence(g->gfx, p->ctx_id, ring, p->fence_id);
    if (r == VIRTIO_GPU_RESP_OK_NODATA) {
        return; /* pushed already, or when its fence signals */
    }
    /* No such timeline: answer with the error now rather than never. */
    for (uint32_t i = g->n_pending; i-- > 0;) {
        if (g->pending[i].head == e->head) {
            g->pending[i] = g->pending[--g->n_pending];
            break;
        }
    }
    resp->hdr.type = htole32(r);
    w = virtq_write(e, 0, resp, sizeof(resp->hdr));
    virtq_push(q, e, (uint32_t)w);
    g->ctrl_pushed = true;
}

/* ---- cursor queue ---- */

static void gpu_cursor_one(struct virtio_gpu *g)
{
    struct virtio_gpu_update_cursor c;
    memset(&c, 0, sizeof(c));
    size_t got = virtq_read(&g->elem, 0, &c, sizeof(c));
    uint32_t type = got >= sizeof(c.hdr) ? le32toh(c.hdr.type) : 0;
    if (type != VIRTIO_GPU_CMD_UPDATE_CURSOR &&
        type != VIRTIO_GPU_CMD_MOVE_CURSOR) {
        log_guest("virtio-gpu: command %#x on the cursor queue", type);
        return;
    }
    if (got < sizeof(c)) {
        log_guest("virtio-gpu: %s: request of %zu bytes, needs %zu",
                  gpu_cmd_name(type), got, sizeof(c));
        return;
    }
    uint32_t scanout = le32toh(c.pos.scanout_id);
    /* le32 on the wire, signed in meaning (gfx.h). */
    int32_t x = (int32_t)le32toh(c.pos.x), y = (int32_t)le32toh(c.pos.y);
    /* Errors are logged by gfx; the cursor queue has no responses. */
    if (type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
        gfx_update_cursor(g->gfx, scanout, le32toh(c.resource_id),
                          le32toh(c.hot_x), le32toh(c.hot_y), x, y);
    } else {
        gfx_move_cursor(g->gfx, scanout, x, y);
    }
}

/* ---- virtio ops ---- */

static void gpu_queue_notify(struct virtio_dev *d, unsigned n)
{
    struct virtio_gpu *g = d->opaque;
    struct virtq *q = &d->vq[n];
    bool pushed = false;
    if (n != GPU_CTRL_QUEUE && n != GPU_CURSOR_QUEUE) {
        return;
    }
    for (;;) {
        /* Each held command is a chain, so a driver that keeps to the
         * queue size never gets here with n_pending at q->num; one that
         * reuses held heads (or adds chains from another vCPU while this
         * loop runs) would otherwise overrun g->pending. */
        if (n == GPU_CTRL_QUEUE && g->n_pending >= q->num) {
            break;
        }
        int r = virtq_pop(q, &g->elem);
        if (r < 0) {
            const char *why = n == GPU_CTRL_QUEUE
                                  ? "virtio-gpu: malformed control queue"
                                  : "virtio-gpu: malformed cursor queue";
            virtio_set_needs_reset(d, why);
            break;
        }
        if (r == 0) {
            break;
        }
        if (n == GPU_CTRL_QUEUE) {
            gpu_ctrl_one(g, q);
        } else {
            gpu_cursor_one(g);
            virtq_push(q, &g->elem, 0);
            pushed = true;
        }
    }
    if (n == GPU_CTRL_QUEUE) {
        gpu_notify_ctrl(g);
    } else if (pushed) {
        virtio_notify(d, n);
    }
}

static uint64_t gpu_features(struct virtio_dev *d)
{
    struct virtio_gpu *g = d->opaque;
    uint64_t f = (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
                 (1ull << VIRTIO_RING_F_EVENT_IDX);
    if (g->edid) {
        f |= 1ull << VIRTIO_GPU_F_EDID;
    }
    if (g->rutabaga) {
        /* Linux only allows EXECBUFFER and CONTEXT_INIT with F_VIRGL
         * (has_virgl_3d), so it is offered, as QEMU's rutabaga device does,
         * though no virgl context type exists here. */
        f |= (1ull << VIRTIO_GPU_F_VIRGL) |
             (1ull << VIRTIO_GPU_F_RESOURCE_BLOB) |
             (1ull << VIRTIO_GPU_F_CONTEXT_INIT) |
             (1ull << VIRTIO_GPU_F_RESOURCE_UUID);
    }
    return f;
}

static uint32_t gpu_config_size(struct virtio_dev *d)
{
    (void)d;
    return sizeof(struct virtio_gpu_config);
}

static void gpu_config_read(struct virtio_dev *d, uint32_t off, void *buf,
                            uint32_t len)
{
    struct virtio_gpu *g = d->opaque;
    struct virtio_gpu_config c = {
        .events_read = htole32(g->events_read),
        .events_clear = 0,
        .num_scanouts = htole32(g->num_heads),
        .num_capsets = htole32(gfx_num_capsets(g->gfx)),
    };
    memcpy(buf, (const uint8_t *)&c + off, len); /* range checked by core */
}

static void gpu_config_write(struct virtio_dev *d, uint32_t off,
                             const void *buf, uint32_t len)
{
    struct virtio_gpu *g = d->opaque;
    const uint8_t *p = buf;
    const uint32_t clr = offsetof(struct virtio_gpu_config, events_clear);
    uint32_t clear = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t o = off + i;
        if (o >= clr && o < clr + 4) {
            clear |= (uint32_t)p[i] << (8 * (o - clr));
        } else {
            log_guest("virtio-gpu: write to read-only config byte %u", o);
            return;
        }
    }
    g->events_read &= ~clear;
}

static void gpu_reset(struct virtio_dev *d)
{
    struct virtio_gpu *g = d->opaque;
    /* The queues are gone: held commands are dropped, not answered. */
    g->n_pending = 0;
    gfx_reset(g->gfx);
    g->n_pending = 0;
    g->ctrl_pushed = false;
    gpu_heads_default(g);
    g->events_read = 0;
}

static const struct virtio_dev_ops gpu_ops = {
    .name = "virtio-gpu-device",
    .device_id = VIRTIO_ID_GPU,
    .features = gpu_features,
    .config_size = gpu_config_size,
    .config_read = gpu_config_read,
    .config_write = gpu_config_write,
    .queue_notify = gpu_queue_notify,
    .reset = gpu_reset,
};

/* ---- lifecycle ---- */

static const struct virtio_dev_ops gpu_ops_rutabaga = {
    .name = "virtio-gpu-rutabaga-device",
    .device_id = VIRTIO_ID_GPU,
    .features = gpu_features,
    .config_size = gpu_config_size,
    .config_read = gpu_config_read,
    .config_write = gpu_config_write,
    .queue_notify = gpu_queue_notify,
    .reset = gpu_reset,
};

static void gpu_free_parts(struct virtio_gpu *g)
{
    if (g->cd_watched) {
        loop_del_fd(g->cd_fd);
    }
    gfx_destroy(g->gfx);
    free(g->pending);
    free(g->push_elem);
    free(g->resp);
    free(g);
}

/* Main loop: the cross-domain component has host events (compositor
 * messages, pipe data) for fences the guest is polling on. */
static void gpu_cd_events(void *opaque, uint32_t events)
{
    struct virtio_gpu *g = opaque;
    (void)events;
    dev_lock();
    gfx_cross_domain_dispatch(g->gfx);
    /* A POLL fence that signalled has answered its held command: tell
     * the guest, or an idle guest sees the answer only at its next
     * unrelated interrupt. */
    gpu_notify_ctrl(g);
    dev_unlock();
}

struct virtio_gpu *virtio_gpu_new(struct mem_map *mem,
                                  const struct virtio_gpu_conf *conf,
                                  struct error *err)
{
    const struct virtio_dev_ops *ops =
        conf->rutabaga ? &gpu_ops_rutabaga : &gpu_ops;
    if (gpu_check_conf(ops->name, conf->max_outputs, conf->xres, conf->yres,
                       conf->max_hostmem, err) < 0) {
        return NULL;
    }
    struct virtio_gpu *g = calloc(1, sizeof(*g));
    if (!g || !(g->resp = malloc(sizeof(*g->resp))) ||
        !(g->push_elem = calloc(1, sizeof(*g->push_elem))) ||
        !(g->pending = calloc(VIRTQ_MAX_SIZE, sizeof(*g->pending)))) {
        if (g) {
            gpu_free_parts(g);
        }
        err_set(err, -ENOMEM, "-device %s: out of memory", ops->name);
        return NULL;
    }
    g->rutabaga = conf->rutabaga;
    g->name = ops->name;
    g->num_heads = conf->max_outputs;
    g->xres = conf->xres;
    g->yres = conf->yres;
    g->edid = conf->edid;
    g->max_hostmem = conf->max_hostmem;
    g->host_visible = conf->rutabaga ? conf->hostmem : 0;
    gpu_heads_default(g);
    /* All the consoles or none: the display layer cannot take one back. */
    if (ui_console_count() + g->num_heads > UI_MAX_CONSOLES) {
        err_set(err, -ENOSPC,
                "-device %s: max_outputs=%u: only %u more "
                "display heads are possible (%u in all)",
                ops->name, g->num_heads, UI_MAX_CONSOLES - ui_console_count(),
                UI_MAX_CONSOLES);
        gpu_free_parts(g);
        return NULL;
    }
    struct gfx_config gc = {
        .mem = mem,
        .max_hostmem = conf->max_hostmem,
        .num_scanouts = conf->max_outputs,
        .capset_mask = conf->rutabaga ? conf->capset_mask : 0,
        .test_component = conf->rutabaga && conf->test_component,
        .host_visible_size = g->host_visible,
        .wayland_socket_path = conf->wayland_socket_path,
        .wakeup = gpu_fence_wakeup,
        .wakeup_opaque = g,
    };
    if (gfx_create(&gc, &g->gfx, err) < 0) {
        err_prefix(err, "-device %s", ops->name);
        gpu_free_parts(g);
        return NULL;
    }
    g->cd_fd = gfx_cross_domain_event_fd(g->gfx);
    if (g->cd_fd >= 0) {
        if (loop_add_fd(g->cd_fd, EPOLLIN, gpu_cd_events, g) < 0) {
            err_set(err, -EIO, "-device %s: cannot watch cross-domain events",
                    ops->name);
            gpu_free_parts(g);
            return NULL;
        }
        g->cd_watched = true;
    }
    for (uint32_t i = 0; i < g->num_heads; i++) {
        g->heads[i].con =
            ui_console_new(conf->dev_id, ops->name, i, &gpu_producer_ops, g);
        if (!g->heads[i].con) {
            err_set(err, -ENOMEM,
                    "-device %s: out of memory for the console of head %u",
                    ops->name, i);
            gpu_free_parts(g);
            return NULL;
        }
    }
    gfx_set_listener(g->gfx, &gpu_listener, g);
    virtio_dev_init(&g->vdev, ops, g, mem, 2,
                    conf->rutabaga ? GPU_CTRL_QUEUE_SIZE_3D
                                   : GPU_CTRL_QUEUE_SIZE);
    g->vdev.vq[GPU_CURSOR_QUEUE].num_max = GPU_CURSOR_QUEUE_SIZE;
    return g;
}

void virtio_gpu_free(struct virtio_gpu *g)
{
    if (!g) {
        return;
    }
    /* gfx first: its components join their worker threads there
     * (component.h), and a worker may queue a wakeup until then; only
     * after it can the queued calls be dropped for good. */
    gfx_destroy(g->gfx);
    g->gfx = NULL;
    loop_call_cancel(gpu_fence_bh, g);
    /* The consoles hold copies of what they show, not gfx's images. */
    gpu_free_parts(g);
}

struct virtio_dev *virtio_gpu_vdev(struct virtio_gpu *g)
{
    return &g->vdev;
}

uint8_t *virtio_gpu_host_visible(struct virtio_gpu *g, uint64_t *size)
{
    return gfx_host_visible(g->gfx, size);
}

const uint8_t *virtio_gpu_host_visible_ro_pages(struct virtio_gpu *g)
{
    return gfx_host_visible_ro_pages(g->gfx);
}

/* ---- the models ---- */

static int gpu_create_common(struct vm *vm, const struct opts *o,
                             struct device_instance *out, bool rutabaga,
                             struct error *err)
{
    const char *on = rutabaga ? "-device virtio-gpu-rutabaga-device"
                              : "-device virtio-gpu-device";
    uint64_t outputs, xres, yres, hostmem, host_visible = 0;
    bool edid, cross_domain = false;
    int r;
    if ((r = opts_get_uint(o, "max_outputs", 1, &outputs, on, err)) < 0 ||
        (r = opts_get_uint(o, "xres", VIRTIO_GPU_DEFAULT_XRES, &xres, on,
                           err)) < 0 ||
        (r = opts_get_uint(o, "yres", VIRTIO_GPU_DEFAULT_YRES, &yres, on,
                           err)) < 0 ||
        (r = opts_get_bool(o, "edid", true, &edid, on, err)) < 0 ||
        (r = opts_get_size(o, "max_hostmem", GFX_DEFAULT_MAX_HOSTMEM, &hostmem,
                           on, err)) < 0 ||
        (r = gpu_check_conf(on + 8, outputs, xres, yres, hostmem, err)) < 0) {
        return r;
    }
    if (rutabaga) {
        /* QEMU's context-type switches we know but cannot provide. */
        static const char *const refused[] = {
            "gfxstream-vulkan",
            "x-gfxstream-gles",
            "x-gfxstream-composer",
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
            bool on_ = false;
            if ((r = opts_get_bool(o, refused[i], false, &on_, on, err)) < 0) {
                return r;
            }
            if (on_) {
                return err_set(err, -ENOTSUP,
                               "%s: %s=on: gfxstream is not supported (the "
                               "only context type is cross-domain=on)",
                               on, refused[i]);
            }
        }
        const char *wsi = opts_get(o, "wsi");
        if (wsi && strcmp(wsi, "surfaceless") && strcmp(wsi, "headless")) {
            return err_set(err, -EINVAL,
                           "%s: wsi=%s: invalid wsi option selected "
                           "(surfaceless or headless)",
                           on, wsi);
        }
        if ((r = opts_get_bool(o, "cross-domain", false, &cross_domain, on,
                               err)) < 0 ||
            (r = opts_get_size(o, "hostmem", 0, &host_visible, on, err)) < 0) {
            return r;
        }
        if (!cross_domain) {
            return err_set(err, -EINVAL,
                           "%s: no context type enabled (use cross-domain=on)",
                           on);
        }
        long page = sysconf(_SC_PAGESIZE);
        uint64_t psz = page > 0 ? (uint64_t)page : 4096;
        if (host_visible % psz || host_visible > GFX_MAX_HOST_VISIBLE) {
            return err_set(err, -EINVAL,
                           "%s: hostmem=%llu: must be a multiple of %llu "
                           "and at most %llu",
                           on, (unsigned long long)host_visible,
                           (unsigned long long)psz,
                           (unsigned long long)GFX_MAX_HOST_VISIBLE);
        }
    }
    struct virtio_gpu_conf conf = {
        .max_outputs = (uint32_t)outputs,
        .xres = (uint32_t)xres,
        .yres = (uint32_t)yres,
        .edid = edid,
        .max_hostmem = hostmem,
        .dev_id = opts_get(o, "id"),
        .rutabaga = rutabaga,
        .capset_mask =
            cross_domain ? 1ull << VIRTIO_GPU_CAPSET_CROSS_DOMAIN : 0,
        .hostmem = host_visible,
        .wayland_socket_path = opts_get(o, "wayland-socket-path"),
    };
    struct virtio_gpu *g = virtio_gpu_new(&vm->mem, &conf, err);
    if (!g) {
        return err_is_set(err) ? err->code : -ENOMEM;
    }
    out->model = rutabaga ? &virtio_gpu_rutabaga_model : &virtio_gpu_model;
    out->state = g;
    out->vdev = &g->vdev;
    if (g->host_visible) {
        out->shm.id = VIRTIO_GPU_SHM_ID_HOST_VISIBLE;
        out->shm.host = virtio_gpu_host_visible(g, &out->shm.size);
        out->shm.ro_pages = virtio_gpu_host_visible_ro_pages(g);
    }
    return 0;
}

static int gpu_create(struct vm *vm, const struct opts *o,
                      struct device_instance *out, struct error *err)
{
    return gpu_create_common(vm, o, out, false, err);
}

static int gpu_create_rutabaga(struct vm *vm, const struct opts *o,
                               struct device_instance *out, struct error *err)
{
    return gpu_create_common(vm, o, out, true, err);
}

static void gpu_destroy(void *state)
{
    virtio_gpu_free(state);
}

static const char *const gpu_props[] = {
    "max_outputs", "xres", "yres", "edid", "max_hostmem", NULL,
};

const struct device_model virtio_gpu_model = {
    .name = "virtio-gpu-device",
    .desc = "virtio GPU (2D)",
    .props = gpu_props,
    .create = gpu_create,
    .destroy = gpu_destroy,
};

/* QEMU 8.2's virtio-gpu-rutabaga properties (docs/gpu.md). */
static const char *const gpu_rutabaga_props[] = {
    "max_outputs",
    "xres",
    "yres",
    "edid",
    "max_hostmem",
    "hostmem",
    "cross-domain",
    "wayland-socket-path",
    "wsi",
    "gfxstream-vulkan",
    "x-gfxstream-gles",
    "x-gfxstream-composer",
    NULL,
};

const struct device_model virtio_gpu_rutabaga_model = {
    .name = "virtio-gpu-rutabaga-device",
    .desc = "virtio GPU with context types (rutabaga: cross-domain)",
    .props = gpu_rutabaga_props,
    .create = gpu_create_rutabaga,
    .destroy = gpu_destroy,
};
