/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the 3D and blob half of the virtio-gpu decoder
 * (src/hw/virtio/gpu/gpu.c with conf.rutabaga, virtio 1.2 spec 5.7.6.8
 * and 5.7.5) and the gfx core behind it (src/gfx/gfx.c): contexts,
 * capsets, SUBMIT_3D, blobs of every blob_mem with guest backing
 * anywhere, MAP/UNMAP_BLOB into the host-visible region, the guest
 * reading and writing that region as guest memory while blobs come and
 * go, SET_SCANOUT_BLOB and flushes, uuids, transfers, and fences on
 * (context, ring) timelines that gfx's test context type
 * (gfx/test_component.c) holds and releases, synchronously or from the
 * "worker" side (gfx_fence_signal_async), with chains posted without a
 * kick so that many wait in the control queue at once, and device resets
 * in between. The device runs over 4 MiB of fake guest RAM plus a 256 KiB
 * host-visible region at guest physical 0x40_0000_0000, as on the virt
 * board. The 2D decoder has its own target (fuzz_virtio_gpu.c); the
 * cross-domain protocol too (fuzz_cross_domain.c).
 *
 * Input: byte 0 = setup (bits 0-1: heads - 1; bit 2: max_hostmem 1 MiB
 * instead of 16 MiB; bit 3: control queue of 16 entries instead of 256;
 * bit 4: no host-visible region). Then operations, one opcode byte each
 * (value % 16). Every command op (0-12) first takes a fence byte f: bit
 * 0 FLAG_FENCE, bit 1 FLAG_INFO_RING_IDX (then a ring byte, % 68), bit 2
 * post without a kick, bit 3 a response buffer of (next byte) bytes
 * instead of a large enough one; fence ids grow by one per fenced
 * command unless bit 4 (then the next byte is the id).
 *   0  CTX_CREATE: ctx byte (% 5), init byte (bit 7: capset 0xfe, else
 *      the byte itself), name length byte.
 *   1  CTX_DESTROY: ctx byte (% 5).
 *   2  RESOURCE_CREATE_BLOB: ctx, resource (% 17), blob_mem (% 5), flags
 *      byte, size u16 (* 16, 0xffff: 2^64 - 1), entries (% 5), each an
 *      offset u16 (* 16 into the backing area) and a length u16 (* 4).
 *   3  RESOURCE_MAP_BLOB: resource, page byte (0xff: an unaligned
 *      offset from the next u16).
 *   4  RESOURCE_UNMAP_BLOB: resource.
 *   5  SUBMIT_3D: ctx, word count (% 12), then per word: a selector byte
 *      (bits 0-2: NOP, HOLD, RELEASE, RELEASE_ASYNC, WRITE, raw) and
 *      its arguments (ring byte % 66; resource, offset u16, value u16).
 *   6  CTX_ATTACH_RESOURCE (bit 7 clear) / DETACH: ctx, resource.
 *   7  SET_SCANOUT_BLOB: scanout (% 3), resource, w, h bytes, stride u16,
 *      offset u16, format byte (% 8: a known format, else the byte).
 *   8  RESOURCE_ASSIGN_UUID (bit 7 clear) / RESOURCE_UNREF: resource.
 *   9  TRANSFER_TO_HOST_3D (bit 7 clear) / FROM_HOST_3D: ctx, resource,
 *      box.x u16, box.w u16, offset u16.
 *   10 GET_CAPSET_INFO (bit 7 clear: index byte % 3) / GET_CAPSET (id
 *      byte: 0xfe or the byte; version byte % 3).
 *   11 RESOURCE_FLUSH: resource, x, y, w, h bytes.
 *   12 any command: type byte (bit 7: from a table of 3D commands), a
 *      length u16 (% 1024) and that many bytes.
 *   13 the guest touches the region: offset u16 * 4, length byte, bit 0
 *      of the length: write (the bytes follow) or read.
 *   14 kick the control queue, then deliver queued async fences.
 *   15 device reset and driver re-initialisation.
 * Checks: no crash, no sanitizer report, every completion names a posted
 * head and claims no more than its writable buffer, and no host fd is
 * left open after the device is freed.
 */
#include <dirent.h>
#include <endian.h>
#include <linux/virtio_gpu.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dev/vdev_driver.h"
#include "gfx/gfx.h"
#include "gfx/test_component.h"
#include "hw/virtio/gpu/gpu.h"
#include "ui/console.h"

#define MAX_OPS   96
#define REQ_GPA   (VD_DATA_BASE) /* 256 slots of 1 KiB */
#define REQ_SLOT  1024u
#define RESP_GPA  (VD_DATA_BASE + 0x40000) /* 256 slots of 2 KiB */
#define RESP_SLOT 2048u
#define BACK_GPA  (VD_DATA_BASE + 0xc0000) /* to the end of RAM */
#define BACK_SIZE (VD_RAM_BASE + VD_RAM_SIZE - BACK_GPA)
#define HV_GPA    0x4000000000ull
#define HV_SIZE   (256u << 10)
#define PAGE      4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t n;
};

static struct mem_map ram;
static bool ram_ready;
static struct mem_map mem; /* this input's: ram and the region */
static struct vd_queue ctrlq, curq;
static uint16_t ctrl_size;
/* The driver's bookkeeping, per descriptor: in flight, and for a
 * chain's head its descriptors and writable bytes. */
static bool busy[VIRTQ_MAX_SIZE];
static uint16_t chain_desc[VIRTQ_MAX_SIZE][2];
static uint8_t chain_n[VIRTQ_MAX_SIZE];
static uint32_t wlen[VIRTQ_MAX_SIZE];
static unsigned next_slot;
static uint64_t next_fence;

static const uint32_t cmd_types[16] = {
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
    VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,
    VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
    VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    VIRTIO_GPU_CMD_GET_CAPSET,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
};

static const uint32_t formats[8] = {
    VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
    VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
    VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
    VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM,
};

static uint8_t in_u8(struct input *in)
{
    if (!in->n) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint16_t in_u16(struct input *in)
{
    uint16_t lo = in_u8(in);
    return (uint16_t)(lo | (uint16_t)in_u8(in) << 8);
}

static unsigned open_fds(void)
{
    unsigned n = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir) {
        return 0;
    }
    while (readdir(dir)) {
        n++;
    }
    closedir(dir);
    return n;
}

static void driver_init(struct virtio_dev *d)
{
    memset(mem_ptr(&mem, VD_RAM_BASE, VD_DATA_BASE - VD_RAM_BASE, true), 0,
           VD_DATA_BASE - VD_RAM_BASE);
    vd_ring_next = VD_RAM_BASE;
    vd_features(d, ~0ull);
    vd_queue(&ctrlq, d, 0, ctrl_size);
    vd_queue(&curq, d, 1, 16);
    vd_driver_ok(d);
    memset(busy, 0, sizeof(busy));
    memset(chain_n, 0, sizeof(chain_n));
}

/* A chain completed: it must be one in flight, and claim no more than
 * its writable buffer; its descriptors are free again. */
static void drain(void)
{
    uint32_t id, len;
    while (vd_used(&ctrlq, &id, &len)) {
        if (id >= ctrlq.num || !chain_n[id] || len > wlen[id]) {
            __builtin_trap();
        }
        for (unsigned i = 0; i < chain_n[id]; i++) {
            busy[chain_desc[id][i]] = false;
        }
        chain_n[id] = 0;
    }
}

/* Post a chain of n (1 or 2) buffers on free descriptors, as a driver
 * does: never reusing one that is in flight, so at most the queue size
 * of descriptors is out. false if there is no room. */
static bool post_chain(const struct vd_buf *b, unsigned n)
{
    uint16_t idx[2] = { 0, 0 };
    unsigned got = 0;
    for (uint16_t i = 0; i < ctrlq.num && got < n; i++) {
        if (!busy[i]) {
            idx[got++] = i;
        }
    }
    if (got < n) {
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        struct vring_desc desc = {
            .addr = htole64(b[i].gpa),
            .len = htole32(b[i].len),
            .flags = htole16((b[i].write ? VRING_DESC_F_WRITE : 0) |
                             (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
            .next = htole16(i + 1 < n ? idx[i + 1] : 0),
        };
        mem_write(&mem, ctrlq.desc + 16ull * idx[i], &desc, sizeof(desc));
        busy[idx[i]] = true;
        chain_desc[idx[0]][i] = idx[i];
    }
    uint16_t head = htole16(idx[0]);
    chain_n[idx[0]] = (uint8_t)n;
    wlen[idx[0]] = b[n - 1].write ? b[n - 1].len : 0;
    mem_write(&mem, ctrlq.avail + 4 + 2ull * (ctrlq.avail_idx % ctrlq.num),
              &head, 2);
    ctrlq.avail_idx++;
    uint16_t ai = htole16(ctrlq.avail_idx);
    mem_write(&mem, ctrlq.avail + 2, &ai, 2);
    return true;
}

/* What every command op shares: the header's fence fields, whether to
 * kick, the response buffer. */
struct cmd_opts {
    struct virtio_gpu_ctrl_hdr hdr;
    bool no_kick;
    bool own_resp;
    uint32_t resp_len;
};

static struct cmd_opts cmd_begin(struct input *in)
{
    struct cmd_opts o;
    memset(&o, 0, sizeof(o));
    uint8_t f = in_u8(in);
    uint32_t flags = 0;
    if (f & 1) {
        flags |= VIRTIO_GPU_FLAG_FENCE;
    }
    if (f & 2) {
        flags |= VIRTIO_GPU_FLAG_INFO_RING_IDX;
        o.hdr.ring_idx = (uint8_t)(in_u8(in) % 68);
    }
    o.hdr.flags = htole32(flags);
    o.no_kick = f & 4;
    if (f & 8) {
        o.own_resp = true;
        o.resp_len = in_u8(in);
    }
    o.hdr.fence_id = htole64(f & 16 ? in_u8(in) : ++next_fence);
    return o;
}

/* Post req (len bytes, its header's type and ctx_id set by the caller)
 * with o's fence fields and response buffer; kick unless told not to.
 * false if the queue had no room. */
static bool send(struct cmd_opts *o, void *req, uint32_t len)
{
    struct virtio_gpu_ctrl_hdr h;
    if (len >= sizeof(h)) {
        memcpy(&h, req, sizeof(h));
        h.flags = o->hdr.flags;
        h.fence_id = o->hdr.fence_id;
        h.ring_idx = o->hdr.ring_idx;
        memcpy(req, &h, sizeof(h));
    }
    uint32_t rlen = o->own_resp ? o->resp_len : RESP_SLOT;
    if (rlen > RESP_SLOT) {
        rlen = RESP_SLOT;
    }
    if (len > REQ_SLOT) {
        len = REQ_SLOT;
    }
    /* Request and response slots are taken round-robin: the device
     * copies a request out when it pops it and has written the response
     * of a held chain already, so reuse is harmless. */
    uint64_t slot = next_slot++ % 256;
    mem_write(&mem, REQ_GPA + slot * REQ_SLOT, req, len);
    struct vd_buf b[2];
    unsigned n = 0;
    if (len) {
        b[n++] = (struct vd_buf){ REQ_GPA + slot * REQ_SLOT, len, false };
    }
    if (rlen) {
        b[n++] = (struct vd_buf){ RESP_GPA + slot * RESP_SLOT, rlen, true };
    }
    if (!n) {
        return true;
    }
    if (!post_chain(b, n)) {
        /* The queue is full: let the device take what is there first. */
        vd_notify(&ctrlq);
        drain();
        if (!post_chain(b, n)) {
            return false; /* everything is held: a driver would wait */
        }
    }
    if (!o->no_kick) {
        vd_notify(&ctrlq);
        drain();
    }
    return true;
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type, uint32_t ctx)
{
    return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type),
                                         .ctx_id = htole32(ctx) };
}

static void op_ctx_create(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_ctx_create c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, in_u8(in) % 5);
    uint8_t init = in_u8(in);
    c.context_init = htole32(init & 0x80 ? GFX_CAPSET_TEST : init);
    c.nlen = htole32(in_u8(in));
    memset(c.debug_name, 'n', sizeof(c.debug_name));
    send(&o, &c, sizeof(c));
}

static void op_ctx_destroy(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_ctrl_hdr c =
        hdr(VIRTIO_GPU_CMD_CTX_DESTROY, in_u8(in) % 5);
    send(&o, &c, sizeof(c));
}

static void op_create_blob(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    uint8_t buf[sizeof(struct virtio_gpu_resource_create_blob) + 4 * 16];
    struct virtio_gpu_resource_create_blob c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, in_u8(in) % 5);
    c.resource_id = htole32(in_u8(in) % 17);
    c.blob_mem = htole32(in_u8(in) % 5);
    c.blob_flags = htole32(in_u8(in));
    uint16_t sz = in_u16(in);
    c.size = htole64(sz == 0xffff ? UINT64_MAX : (uint64_t)sz * 16);
    uint32_t n = in_u8(in) % 5;
    c.nr_entries = htole32(n);
    c.blob_id = htole64(1);
    memcpy(buf, &c, sizeof(c));
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)in_u16(in) * 16;
        uint32_t len = (uint32_t)in_u16(in) * 4;
        struct virtio_gpu_mem_entry m = {
            .addr = htole64(BACK_GPA + off),
            .length = htole32(len),
        };
        memcpy(buf + sizeof(c) + 16 * i, &m, sizeof(m));
    }
    send(&o, buf, (uint32_t)(sizeof(c) + 16 * n));
}

static void op_map(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_resource_map_blob c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 0);
    c.resource_id = htole32(in_u8(in) % 17);
    uint8_t page = in_u8(in);
    c.offset = htole64(page == 0xff ? in_u16(in) : (uint64_t)page * PAGE);
    send(&o, &c, sizeof(c));
}

static void op_unmap(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_resource_unmap_blob c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0);
    c.resource_id = htole32(in_u8(in) % 17);
    send(&o, &c, sizeof(c));
}

static void op_submit(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    uint8_t buf[sizeof(struct virtio_gpu_cmd_submit) + 12 * 4 * 4];
    struct virtio_gpu_cmd_submit c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_SUBMIT_3D, in_u8(in) % 5);
    unsigned words = in_u8(in) % 12, n = 0;
    uint32_t w[12 * 4];
    for (unsigned i = 0; i < words; i++) {
        uint8_t sel = in_u8(in);
        switch (sel % 8) {
        case 0:
            w[n++] = TEST_OP_NOP;
            break;
        case 1:
        case 2:
        case 3:
            w[n++] = sel % 8 == 1   ? TEST_OP_HOLD
                     : sel % 8 == 2 ? TEST_OP_RELEASE
                                    : TEST_OP_RELEASE_ASYNC;
            w[n++] = in_u8(in) % 66;
            break;
        case 4:
            w[n++] = TEST_OP_WRITE;
            w[n++] = in_u8(in) % 17;
            w[n++] = in_u16(in);
            w[n++] = in_u16(in);
            break;
        default:
            w[n++] = (uint32_t)in_u16(in) << 16 | in_u16(in);
            break;
        }
    }
    c.size = htole32(n * 4);
    memcpy(buf, &c, sizeof(c));
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = htole32(w[i]);
        memcpy(buf + sizeof(c) + 4 * i, &v, 4);
    }
    send(&o, buf, (uint32_t)(sizeof(c) + 4 * n));
}

static void op_attach(struct input *in, bool detach)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_ctx_resource c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(detach ? VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE
                       : VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
                in_u8(in) % 5);
    c.resource_id = htole32(in_u8(in) % 17);
    send(&o, &c, sizeof(c));
}

static void op_scanout_blob(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_set_scanout_blob c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, 0);
    c.scanout_id = htole32(in_u8(in) % 3);
    c.resource_id = htole32(in_u8(in) % 17);
    uint32_t w = in_u8(in), h = in_u8(in);
    c.width = htole32(w);
    c.height = htole32(h);
    uint8_t rx = in_u8(in), ry = in_u8(in);
    c.r.x = htole32(rx % 8);
    c.r.y = htole32(ry % 8);
    c.r.width = htole32(w > rx % 8 ? w - rx % 8 : 0);
    c.r.height = htole32(h > ry % 8 ? h - ry % 8 : 0);
    c.strides[0] = htole32(in_u16(in));
    c.offsets[0] = htole32(in_u16(in));
    uint8_t f = in_u8(in);
    c.format = htole32(f < 8 ? formats[f] : f);
    send(&o, &c, sizeof(c));
}

static void op_uuid_unref(struct input *in, bool unref)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_resource_assign_uuid c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(unref ? VIRTIO_GPU_CMD_RESOURCE_UNREF
                      : VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
                0);
    c.resource_id = htole32(in_u8(in) % 17);
    send(&o, &c, sizeof(c));
}

static void op_transfer(struct input *in, bool from_host)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_transfer_host_3d c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(from_host ? VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D
                          : VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
                in_u8(in) % 5);
    c.resource_id = htole32(in_u8(in) % 17);
    c.box.x = htole32(in_u16(in));
    c.box.w = htole32(in_u16(in));
    c.box.h = htole32(1);
    c.box.d = htole32(1);
    c.offset = htole64(in_u16(in));
    send(&o, &c, sizeof(c));
}

static void op_capset(struct input *in, bool get)
{
    struct cmd_opts o = cmd_begin(in);
    if (get) {
        struct virtio_gpu_get_capset c;
        memset(&c, 0, sizeof(c));
        c.hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET, 0);
        uint8_t id = in_u8(in);
        c.capset_id = htole32(id & 1 ? GFX_CAPSET_TEST : id);
        c.capset_version = htole32(in_u8(in) % 3);
        send(&o, &c, sizeof(c));
    } else {
        struct virtio_gpu_get_capset_info c;
        memset(&c, 0, sizeof(c));
        c.hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0);
        c.capset_index = htole32(in_u8(in) % 3);
        send(&o, &c, sizeof(c));
    }
}

static void op_flush(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    struct virtio_gpu_resource_flush c;
    memset(&c, 0, sizeof(c));
    c.hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0);
    c.resource_id = htole32(in_u8(in) % 17);
    c.r.x = htole32(in_u8(in));
    c.r.y = htole32(in_u8(in));
    c.r.width = htole32(in_u8(in));
    c.r.height = htole32(in_u8(in));
    send(&o, &c, sizeof(c));
}

static void op_raw(struct input *in)
{
    struct cmd_opts o = cmd_begin(in);
    uint8_t buf[REQ_SLOT];
    memset(buf, 0, sizeof(buf));
    uint8_t t = in_u8(in);
    uint32_t len = in_u16(in) % REQ_SLOT;
    for (uint32_t i = 0; i < len; i++) {
        buf[i] = in_u8(in);
    }
    if ((t & 0x80) && len >= 4) {
        uint32_t type = htole32(cmd_types[t % 16]);
        memcpy(buf, &type, 4);
    }
    send(&o, buf, len);
}

static void op_window(struct input *in)
{
    uint64_t off = (uint64_t)in_u16(in) * 4;
    uint8_t n = in_u8(in);
    uint8_t buf[256];
    if (n & 1) {
        for (unsigned i = 0; i < n; i++) {
            buf[i] = in_u8(in);
        }
        mem_write(&mem, HV_GPA + off, buf, n);
    } else {
        mem_read(&mem, HV_GPA + off, buf, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ram_ready) {
        if (vd_ram(&ram) < 0) {
            return 0;
        }
        ram_ready = true;
    }
    if (size < 1) {
        return 0;
    }
    unsigned fds = open_fds();
    /* The same input must see the same guest memory every time. */
    memset(mem_ptr(&ram, VD_RAM_BASE, VD_RAM_SIZE, true), 0, VD_RAM_SIZE);
    uint8_t setup = data[0];
    struct virtio_gpu_conf conf = {
        .max_outputs = 1 + (setup & 3),
        .xres = 1024,
        .yres = 768,
        .edid = true,
        .max_hostmem = setup & 4 ? 1ull << 20 : 16ull << 20,
        .dev_id = "fuzz3d",
        .rutabaga = true,
        .test_component = true,
        .hostmem = setup & 16 ? 0 : HV_SIZE,
    };
    ctrl_size = setup & 8 ? 16 : 256;
    next_fence = 0;
    /* This input's guest memory: the RAM (made once, mapped here as an
     * external block) and the device's host-visible region. */
    memset(&mem, 0, sizeof(mem));
    if (mem_add_block_host(&mem, VD_RAM_BASE, VD_RAM_SIZE,
                           mem_ptr(&ram, VD_RAM_BASE, VD_RAM_SIZE, true), NULL,
                           "ram", NULL) < 0) {
        __builtin_trap();
    }
    struct virtio_gpu *g = virtio_gpu_new(&mem, &conf, NULL);
    if (!g) {
        __builtin_trap();
    }
    uint64_t hv_size = 0;
    uint8_t *hv = virtio_gpu_host_visible(g, &hv_size);
    if (hv && mem_add_block_host(&mem, HV_GPA, hv_size, hv,
                                 virtio_gpu_host_visible_ro_pages(g), "hostmem",
                                 NULL) < 0) {
        __builtin_trap();
    }
    struct virtio_dev *d = virtio_gpu_vdev(g);
    driver_init(d);

    struct input in = { data + 1, size - 1 };
    for (unsigned ops = 0; in.n && ops < MAX_OPS; ops++) {
        uint8_t op = in_u8(&in);
        switch (op % 16) {
        case 0:
            op_ctx_create(&in);
            break;
        case 1:
            op_ctx_destroy(&in);
            break;
        case 2:
            op_create_blob(&in);
            break;
        case 3:
            op_map(&in);
            break;
        case 4:
            op_unmap(&in);
            break;
        case 5:
            op_submit(&in);
            break;
        case 6:
            op_attach(&in, op & 0x80);
            break;
        case 7:
            op_scanout_blob(&in);
            break;
        case 8:
            op_uuid_unref(&in, op & 0x80);
            break;
        case 9:
            op_transfer(&in, op & 0x80);
            break;
        case 10:
            op_capset(&in, op & 0x80);
            break;
        case 11:
            op_flush(&in);
            break;
        case 12:
            op_raw(&in);
            break;
        case 13:
            op_window(&in);
            break;
        case 14:
            vd_notify(&ctrlq);
            dev_lock();
            virtio_gpu_fence_poll(g);
            dev_unlock();
            drain();
            break;
        case 15:
            driver_init(d);
            break;
        }
    }
    /* Nothing waits forever: once every context is gone (its timelines
     * retired) and async signals are delivered, every chain has
     * completed, unless the queue was broken or so full of held chains
     * that not even a CTX_DESTROY got in. */
    vd_notify(&ctrlq);
    drain();
    bool all_posted = true;
    for (uint32_t ctx = 1; ctx < 5; ctx++) {
        struct cmd_opts o;
        memset(&o, 0, sizeof(o));
        o.no_kick = true;
        struct virtio_gpu_ctrl_hdr c = hdr(VIRTIO_GPU_CMD_CTX_DESTROY, ctx);
        all_posted &= send(&o, &c, sizeof(c));
    }
    for (int i = 0; i < 2; i++) {
        vd_notify(&ctrlq);
        dev_lock();
        virtio_gpu_fence_poll(g);
        dev_unlock();
        drain();
    }
    if (all_posted && !(d->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
        for (unsigned i = 0; i < ctrlq.num; i++) {
            if (busy[i]) {
                __builtin_trap();
            }
        }
    }
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    virtio_gpu_free(g);
    mem_free(&mem); /* both blocks are external: only the map goes */
    ui_shutdown();
    if (open_fds() != fds) {
        __builtin_trap();
    }
    return 0;
}
