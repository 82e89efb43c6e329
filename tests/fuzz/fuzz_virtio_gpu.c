/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the virtio-gpu command decoders (src/hw/virtio/gpu/
 * gpu.c) and the gfx calls behind them: control-queue requests of any
 * type, length and contents, split over one or two descriptors and given
 * response buffers of any size; cursor-queue requests; config-space
 * reads and writes; host size requests from the display; and device
 * resets in between. The device runs over 4 MiB of fake guest RAM with
 * consoles (the display layer is shut down after every input).
 *
 * Input: byte 0 = setup (bits 0-1: heads - 1; bit 2: edid=on; bit 3: the
 * driver accepts VIRTIO_GPU_F_EDID; bit 4: max_hostmem 1 MiB instead of
 * 16 MiB). Then operations, one opcode byte each (value % 8):
 *   0-2  control command: a type byte t, a 16-bit little-endian length,
 *        a layout byte s, a split byte, then up to length bytes of the
 *        request (the rest of the request reads as zeros). t bit 7: set
 *        the type to a known command (t % 32 in a table); bit 6: move
 *        the backing entries of an ATTACH_BACKING into the backing area
 *        of guest RAM (so they are accepted more often); bit 5: length
 *        * 8. s bits 0-1: response buffer of 24, 408, 1056 or (s >> 2) * 4
 *        bytes; the split byte cuts the request in two descriptors at
 *        split * length / 256 (0: one descriptor).
 *   3    cursor command: a byte c, then 56 bytes of request (what the
 *        input has). c bit 7: type UPDATE_CURSOR or MOVE_CURSOR (bit 0);
 *        bit 6: the length is c & 0x3f instead of 56.
 *   4    config write: offset byte, length byte (% 9), the bytes.
 *   5    config read: offset byte, length byte (% 9).
 *   6    request_size: head byte, 16-bit width, 16-bit height.
 *   7    device reset and driver re-initialisation.
 * Checks: no crash, no sanitizer report, every chain completes with a
 * used length no larger than its writable buffer.
 */
#include <endian.h>
#include <linux/virtio_gpu.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dev/vdev_driver.h"
#include "hw/virtio/gpu/gpu.h"
#include "ui/console.h"

#define MAX_OPS   64
#define REQ_GPA   (VD_DATA_BASE)           /* 512 KiB */
#define RESP_GPA  (VD_DATA_BASE + 0x80000) /* 4 KiB */
#define BACK_GPA  (VD_DATA_BASE + 0x81000) /* to the end of RAM */
#define BACK_SIZE (VD_RAM_BASE + VD_RAM_SIZE - BACK_GPA)
#define REQ_MAX   0x80000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static bool mem_ready;
static struct vd_queue ctrlq, curq;

static const uint32_t known_types[32] = {
    VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    VIRTIO_GPU_CMD_RESOURCE_UNREF,
    VIRTIO_GPU_CMD_SET_SCANOUT,
    VIRTIO_GPU_CMD_RESOURCE_FLUSH,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
    VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
    VIRTIO_GPU_CMD_GET_EDID,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
    VIRTIO_GPU_CMD_SET_SCANOUT,
    VIRTIO_GPU_CMD_RESOURCE_FLUSH,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
    VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
    VIRTIO_GPU_CMD_RESOURCE_UNREF,
    VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
    VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    VIRTIO_GPU_CMD_GET_CAPSET,
    VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
    VIRTIO_GPU_CMD_CTX_CREATE,
    VIRTIO_GPU_CMD_CTX_DESTROY,
    VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
    VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
    VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
    VIRTIO_GPU_CMD_SUBMIT_3D,
    VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
    VIRTIO_GPU_CMD_UPDATE_CURSOR,
    VIRTIO_GPU_CMD_MOVE_CURSOR,
    0x0999,
};

/* Take n bytes of input (fewer at the end); returns how many. */
static size_t take(const uint8_t *data, size_t size, size_t *pos, void *out,
                   size_t n)
{
    size_t k = size - *pos < n ? size - *pos : n;
    memcpy(out, data + *pos, k);
    *pos += k;
    return k;
}

static void driver_init(struct virtio_dev *d, uint64_t features)
{
    vd_ring_next = VD_RAM_BASE;
    vd_features(d, features);
    vd_queue(&ctrlq, d, 0, 64);
    vd_queue(&curq, d, 1, 16);
    vd_driver_ok(d);
}

static void drain(struct vd_queue *q, uint32_t max_len)
{
    uint32_t len;
    while (vd_used(q, NULL, &len)) {
        if (len > max_len) {
            __builtin_trap();
        }
    }
}

static void ctrl_cmd(const uint8_t *data, size_t size, size_t *pos)
{
    uint8_t hdr[5] = { 0 };
    take(data, size, pos, hdr, sizeof(hdr));
    uint8_t t = hdr[0], s = hdr[3], split = hdr[4];
    uint32_t len = hdr[1] | (uint32_t)hdr[2] << 8;
    if (t & 0x20) {
        len *= 8;
    }
    if (len > REQ_MAX) {
        len = REQ_MAX;
    }
    uint8_t *req = mem_ptr(&mem, REQ_GPA, REQ_MAX, true);
    size_t got = take(data, size, pos, req, len);
    memset(req + got, 0, len - got);
    if ((t & 0x80) && len >= 4) {
        uint32_t type = htole32(known_types[t % 32]);
        memcpy(req, &type, 4);
    }
    uint32_t type = 0;
    if (len >= 4) {
        memcpy(&type, req, 4);
        type = le32toh(type);
    }
    if ((t & 0x40) && type == VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING) {
        const size_t base = sizeof(struct virtio_gpu_resource_attach_backing);
        for (size_t off = base; off + 16 <= len; off += 16) {
            struct virtio_gpu_mem_entry m;
            memcpy(&m, req + off, sizeof(m));
            uint64_t a = le64toh(m.addr) % BACK_SIZE;
            uint32_t l = le32toh(m.length) % (uint32_t)(BACK_SIZE - a + 1);
            m.addr = htole64(BACK_GPA + a);
            m.length = htole32(l);
            memcpy(req + off, &m, sizeof(m));
        }
    }
    static const uint32_t resp_sizes[3] = {
        sizeof(struct virtio_gpu_ctrl_hdr),
        sizeof(struct virtio_gpu_resp_display_info),
        sizeof(struct virtio_gpu_resp_edid),
    };
    uint32_t rlen = (s & 3) < 3 ? resp_sizes[s & 3] : (uint32_t)(s >> 2) * 4;
    uint32_t cut = (uint32_t)((uint64_t)split * len / 256);
    struct vd_buf b[3];
    unsigned n = 0;
    if (cut > 0 && cut < len) {
        b[n++] = (struct vd_buf){ REQ_GPA, cut, false };
        b[n++] = (struct vd_buf){ REQ_GPA + cut, len - cut, false };
    } else if (len > 0) {
        b[n++] = (struct vd_buf){ REQ_GPA, len, false };
    }
    if (rlen > 0) {
        b[n++] = (struct vd_buf){ RESP_GPA, rlen, true };
    }
    if (n == 0) {
        return;
    }
    vd_post(&ctrlq, b, n);
    vd_notify(&ctrlq);
    drain(&ctrlq, rlen);
}

static void cursor_cmd(const uint8_t *data, size_t size, size_t *pos)
{
    uint8_t c = 0;
    take(data, size, pos, &c, 1);
    struct virtio_gpu_update_cursor u;
    memset(&u, 0, sizeof(u));
    take(data, size, pos, &u, sizeof(u));
    if (c & 0x80) {
        u.hdr.type = htole32(c & 1 ? VIRTIO_GPU_CMD_MOVE_CURSOR
                                   : VIRTIO_GPU_CMD_UPDATE_CURSOR);
    }
    uint32_t len = c & 0x40 ? (c & 0x3f) : sizeof(u);
    if (len == 0) {
        len = 1;
    }
    mem_write(&mem, REQ_GPA, &u, sizeof(u));
    struct vd_buf b = { REQ_GPA, len, false };
    vd_post(&curq, &b, 1);
    vd_notify(&curq);
    drain(&curq, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!mem_ready) {
        if (vd_ram(&mem) < 0) {
            return 0;
        }
        mem_ready = true;
    }
    if (size < 1) {
        return 0;
    }
    /* The same input must see the same guest memory every time. */
    memset(mem_ptr(&mem, VD_RAM_BASE, VD_RAM_SIZE, true), 0, VD_RAM_SIZE);
    uint8_t setup = data[0];
    struct virtio_gpu_conf conf = {
        .max_outputs = 1 + (setup & 3),
        .xres = 1024,
        .yres = 768,
        .edid = setup & 4,
        .max_hostmem = setup & 16 ? 1ull << 20 : 16ull << 20,
        .dev_id = "fuzz",
    };
    uint64_t features = setup & 8 ? 1ull << VIRTIO_GPU_F_EDID : 0;
    struct virtio_gpu *g = virtio_gpu_new(&mem, &conf, NULL);
    if (!g) {
        __builtin_trap();
    }
    struct virtio_dev *d = virtio_gpu_vdev(g);
    driver_init(d, features);

    size_t pos = 1;
    for (unsigned ops = 0; pos < size && ops < MAX_OPS; ops++) {
        uint8_t op = data[pos++];
        switch (op % 8) {
        case 0:
        case 1:
        case 2:
            ctrl_cmd(data, size, &pos);
            break;
        case 3:
            cursor_cmd(data, size, &pos);
            break;
        case 4: {
            uint8_t a[2] = { 0 }, buf[8] = { 0 };
            take(data, size, &pos, a, 2);
            size_t n = take(data, size, &pos, buf, a[1] % 9);
            vd_cfg_write(d, a[0], buf, (uint32_t)n);
            break;
        }
        case 5: {
            uint8_t a[2] = { 0 }, buf[8];
            take(data, size, &pos, a, 2);
            vd_cfg_read(d, a[0], buf, a[1] % 9);
            break;
        }
        case 6: {
            uint8_t a[5] = { 0 };
            take(data, size, &pos, a, 5);
            struct ui_console *c = ui_console_at(a[0] % ui_console_count());
            ui_console_request_size(c, a[1] | (uint32_t)a[2] << 8,
                                    a[3] | (uint32_t)a[4] << 8);
            break;
        }
        case 7:
            driver_init(d, features);
            break;
        }
    }
    virtio_gpu_free(g);
    ui_shutdown();
    return 0;
}
