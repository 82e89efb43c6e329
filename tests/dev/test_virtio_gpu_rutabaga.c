/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu-rutabaga-device tests on fake guest RAM (virtio 1.2 spec
 * 5.7 "GPU Device": 5.7.5 shared memory regions, 5.7.6.8 3D and blob
 * commands, 5.7.6.9 fences), driving the control queue as the Linux
 * driver does, with gfx's test context type (capset GFX_CAPSET_TEST,
 * gfx/test_component.c) enabled through virtio_gpu_conf.test_component.
 * Covered: the features offered and num_capsets; the -device model and
 * its host-visible region reported through the virtio-mmio SHM
 * registers; GET_CAPSET_INFO/GET_CAPSET; contexts (context_init,
 * destroy, attach/detach, SUBMIT_3D); blobs (GUEST with scattered
 * backing, HOST3D, HOST3D_GUEST) mapped into the host-visible region at
 * guest physical 0x40_0000_0000, read and written as guest memory
 * through the same memory map the CPU uses; SET_SCANOUT_BLOB on the
 * console; ASSIGN_UUID; fences with FLAG_INFO_RING_IDX: a fenced
 * command's completion withheld while later commands complete, released
 * in order per (context, ring) and independently across rings and
 * contexts, async signals, context destroy; a reset with fences that
 * never signal (no completion, no leaked fd, the device works again);
 * the VIRTIO_GPU_RESP_ERR_* answers for bad ids, maps and sizes; and the
 * shared virtio conformance suite. With the cross-domain context type
 * (capset 5) and a fake compositor (a listening unix socket in a
 * temporary directory): CTX_CREATE, two GUEST ring blobs, INIT over
 * SUBMIT_3D, a POLL fenced on ring 1 held until the compositor writes,
 * then answered from the main loop (gpu_cd_events) with the interrupt
 * raised and the RECEIVE in the channel ring. Not here: the rest of the
 * cross-domain protocol (tests/unit, tests/fuzz), a real guest
 * (tests/functional).
 */
#include <dirent.h>
#include <endian.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "board/board.h"
#include "core/error.h"
#include "core/loop.h"
#include "core/options.h"
#include "gfx/cross_domain.h"
#include "gfx/gfx.h"
#include "gfx/test_component.h"
#include "harness.h"
#include "hw/virtio/gpu/gpu.h"
#include "ui/console.h"
#include "vdev_driver.h"
#include "virtio_conformance.h"

#define OK          VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC    VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_SCANOUT   VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RESOURCE  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_CONTEXT   VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID
#define E_PARAMETER VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define FMT_BGRX    VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM
#define MAPPABLE    VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE
#define FENCE       VIRTIO_GPU_FLAG_FENCE
#define RING_IDX    VIRTIO_GPU_FLAG_INFO_RING_IDX

/* Guest buffers, after the rings (vdev_driver.h): one request and one
 * response slot per chain in flight (chains are two descriptors, so the
 * head / 2 names the slot), then backing memory. */
#define REQ_GPA    (VD_DATA_BASE)
#define REQ_SLOT   1024u
#define RESP_GPA   (VD_DATA_BASE + 0x20000)
#define RESP_SLOT  2048u
#define BACK_GPA   (VD_DATA_BASE + 0x80000)
#define BACK_SIZE  (VD_RAM_BASE + VD_RAM_SIZE - BACK_GPA)
#define CTRL_SIZE  256u
#define MAX_FLIGHT (CTRL_SIZE / 2)
/* Where the virt board puts the host-visible region. */
#define HV_GPA  0x4000000000ull
#define HV_SIZE (1ull << 20)
#define PAGE    4096u

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
        .max_hostmem = 64ull << 20,
        .dev_id = "gpu0",
        .rutabaga = true,
        .test_component = true,
        .hostmem = HV_SIZE,
    };
}

/* The driver's side of initialization: every feature the device offers. */
static void driver_init(void)
{
    /* Fresh rings, as a driver allocates them after a reset. */
    memset(mem_ptr(&mem, VD_RAM_BASE, VD_DATA_BASE - VD_RAM_BASE, true), 0,
           VD_DATA_BASE - VD_RAM_BASE);
    vd_ring_next = VD_RAM_BASE;
    CHECK(vd_features(d, ~0ull));
    CHECK(vd_queue(&ctrlq, d, 0, CTRL_SIZE));
    CHECK(vd_queue(&curq, d, 1, 16));
    vd_driver_ok(d);
}

static void setup_conf(const struct virtio_gpu_conf *conf)
{
    struct error err = { 0 };
    CHECK(vd_ram(&mem) == 0);
    gpu = virtio_gpu_new(&mem, conf, &err);
    CHECK(gpu != NULL);
    d = virtio_gpu_vdev(gpu);
    /* As the virt board does: the region as RAM-like guest memory. */
    uint64_t size = 0;
    uint8_t *hv = virtio_gpu_host_visible(gpu, &size);
    CHECK(hv != NULL);
    CHECK_EQ(size, HV_SIZE);
    CHECK_EQ(mem_add_block_host(&mem, HV_GPA, size, hv,
                                virtio_gpu_host_visible_ro_pages(gpu),
                                "hostmem", &err),
             0);
    driver_init();
}

static void setup(void)
{
    struct virtio_gpu_conf conf = default_conf();
    setup_conf(&conf);
}

static void teardown(void)
{
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    virtio_gpu_free(gpu);
    mem_free(&mem);
    ui_shutdown();
}

static uint64_t req_gpa(uint16_t head)
{
    return REQ_GPA + (uint64_t)(head / 2) * REQ_SLOT;
}

static uint64_t resp_gpa(uint16_t head)
{
    return RESP_GPA + (uint64_t)(head / 2) * RESP_SLOT;
}

/* Post a request of len bytes and a response buffer of resp_len bytes
 * (not kicked); the chain's head. */
static uint16_t post(const void *req, uint32_t len, uint32_t resp_len)
{
    static uint8_t junk[RESP_SLOT];
    uint16_t head = ctrlq.next_desc;
    CHECK(len <= REQ_SLOT && resp_len <= RESP_SLOT);
    CHECK(head % 2 == 0);
    memset(junk, 0xee, sizeof(junk));
    mem_write(&mem, req_gpa(head), req, len);
    mem_write(&mem, resp_gpa(head), junk, sizeof(junk));
    struct vd_buf b[2] = {
        { req_gpa(head), len, false },
        { resp_gpa(head), resp_len, true },
    };
    CHECK_EQ(vd_post(&ctrlq, b, 2), head);
    return head;
}

static void kick(void)
{
    vd_notify(&ctrlq);
}

/* The next completion: its head (and used length); -1 if none. */
static int next_used(uint32_t *len)
{
    uint32_t id = 0, l = 0;
    if (!vd_used(&ctrlq, &id, &l)) {
        return -1;
    }
    if (len) {
        *len = l;
    }
    return (int)id;
}

static struct virtio_gpu_ctrl_hdr resp_hdr(uint16_t head)
{
    struct virtio_gpu_ctrl_hdr h;
    mem_read(&mem, resp_gpa(head), &h, sizeof(h));
    return h;
}

/* Send one request and wait for its completion alone; copies resp_len
 * bytes of response into resp and returns the used length. */
static uint32_t cmd_raw(const void *req, uint32_t len, void *resp,
                        uint32_t resp_len)
{
    uint16_t head = post(req, len, resp_len);
    kick();
    uint32_t used = 0xffffffff;
    CHECK_EQ(next_used(&used), head);
    CHECK_EQ(next_used(NULL), -1);
    if (resp) {
        mem_read(&mem, resp_gpa(head), resp, resp_len);
    }
    return used;
}

/* A request with a header-sized response; the response type. */
static uint32_t cmd(const void *req, uint32_t len)
{
    struct virtio_gpu_ctrl_hdr h;
    CHECK_EQ(cmd_raw(req, len, &h, sizeof(h)), sizeof(h));
    return le32toh(h.type);
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type, uint32_t ctx)
{
    return (struct virtio_gpu_ctrl_hdr){ .type = htole32(type),
                                         .ctx_id = htole32(ctx) };
}

static struct virtio_gpu_ctrl_hdr fenced(uint32_t type, uint32_t ctx,
                                         uint8_t ring, uint64_t fence_id)
{
    struct virtio_gpu_ctrl_hdr h = hdr(type, ctx);
    h.flags = htole32(FENCE | RING_IDX);
    h.fence_id = htole64(fence_id);
    h.ring_idx = ring;
    return h;
}

static uint32_t cfg32(uint32_t off)
{
    uint32_t v = 0;
    vd_cfg_read(d, off, &v, 4);
    return le32toh(v);
}

/* ---- command builders ---- */

static uint32_t ctx_create(uint32_t ctx, uint32_t context_init,
                           const char *name)
{
    struct virtio_gpu_ctx_create c = {
        .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, ctx),
        .context_init = htole32(context_init),
    };
    size_t n = name ? strlen(name) : 0;
    memcpy(c.debug_name, name ? name : "", n < 64 ? n : 64);
    c.nlen = htole32((uint32_t)n);
    return cmd(&c, sizeof(c));
}

static uint32_t ctx_simple(uint32_t type, uint32_t ctx)
{
    struct virtio_gpu_ctrl_hdr h = hdr(type, ctx);
    return cmd(&h, sizeof(h));
}

static uint32_t ctx_resource(uint32_t type, uint32_t ctx, uint32_t res)
{
    struct virtio_gpu_ctx_resource c = {
        .hdr = hdr(type, ctx),
        .resource_id = htole32(res),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t attach_ctx(uint32_t ctx, uint32_t res)
{
    return ctx_resource(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, ctx, res);
}

/* A SUBMIT_3D request of n test-component words, with header h, built
 * into buf; its length. */
static uint32_t build_submit(uint8_t *buf, struct virtio_gpu_ctrl_hdr h,
                             const uint32_t *w, unsigned n)
{
    struct virtio_gpu_cmd_submit c = { .hdr = h, .size = htole32(n * 4) };
    c.hdr.type = htole32(VIRTIO_GPU_CMD_SUBMIT_3D);
    memcpy(buf, &c, sizeof(c));
    for (unsigned i = 0; i < n; i++) {
        uint32_t v = htole32(w[i]);
        memcpy(buf + sizeof(c) + 4 * i, &v, 4);
    }
    return (uint32_t)(sizeof(c) + 4 * n);
}

static uint32_t submit(uint32_t ctx, const uint32_t *w, unsigned n)
{
    uint8_t buf[256];
    CHECK(n <= 32);
    uint32_t len = build_submit(buf, hdr(0, ctx), w, n);
    return cmd(buf, len);
}

/* Post (not kick) a fenced SUBMIT_3D of one NOP on (ctx, ring). */
static uint16_t post_fenced_nop(uint32_t ctx, uint8_t ring, uint64_t fence)
{
    uint8_t buf[64];
    uint32_t nop = TEST_OP_NOP;
    uint32_t len = build_submit(buf, fenced(0, ctx, ring, fence), &nop, 1);
    return post(buf, len, sizeof(struct virtio_gpu_ctrl_hdr));
}

static uint32_t hold(uint32_t ctx, uint32_t ring)
{
    uint32_t w[2] = { TEST_OP_HOLD, ring };
    return submit(ctx, w, 2);
}

struct entry {
    uint64_t gpa;
    uint32_t len;
};

static uint32_t create_blob_req(uint8_t *buf, uint32_t ctx, uint32_t id,
                                uint32_t blob_mem, uint32_t flags,
                                uint64_t size, const struct entry *e,
                                uint32_t n)
{
    struct virtio_gpu_resource_create_blob c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, ctx),
        .resource_id = htole32(id),
        .blob_mem = htole32(blob_mem),
        .blob_flags = htole32(flags),
        .nr_entries = htole32(n),
        .blob_id = htole64(0x1234),
        .size = htole64(size),
    };
    memcpy(buf, &c, sizeof(c));
    for (uint32_t i = 0; i < n; i++) {
        struct virtio_gpu_mem_entry m = { .addr = htole64(e[i].gpa),
                                          .length = htole32(e[i].len) };
        memcpy(buf + sizeof(c) + 16 * i, &m, sizeof(m));
    }
    return (uint32_t)(sizeof(c) + 16 * n);
}

static uint32_t create_blob(uint32_t ctx, uint32_t id, uint32_t blob_mem,
                            uint32_t flags, uint64_t size,
                            const struct entry *e, uint32_t n)
{
    uint8_t buf[REQ_SLOT];
    CHECK(n <= 60);
    uint32_t len = create_blob_req(buf, ctx, id, blob_mem, flags, size, e, n);
    return cmd(buf, len);
}

static uint32_t map_blob(uint32_t id, uint64_t offset, uint32_t *info)
{
    struct virtio_gpu_resource_map_blob c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 0),
        .resource_id = htole32(id),
        .offset = htole64(offset),
    };
    struct virtio_gpu_resp_map_info r;
    uint32_t used = cmd_raw(&c, sizeof(c), &r, sizeof(r));
    uint32_t type = le32toh(r.hdr.type);
    CHECK_EQ(used,
             type == VIRTIO_GPU_RESP_OK_MAP_INFO ? sizeof(r) : sizeof(r.hdr));
    if (info) {
        *info = le32toh(r.map_info);
    }
    return type;
}

static uint32_t unmap_blob(uint32_t id)
{
    struct virtio_gpu_resource_unmap_blob c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t unref(uint32_t id)
{
    struct virtio_gpu_resource_unref c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF, 0),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t scanout_blob(uint32_t scanout, uint32_t id, uint32_t w,
                             uint32_t h, uint32_t stride, uint32_t offset)
{
    struct virtio_gpu_set_scanout_blob c = {
        .hdr = hdr(VIRTIO_GPU_CMD_SET_SCANOUT_BLOB, 0),
        .r = { 0, 0, htole32(w), htole32(h) },
        .scanout_id = htole32(scanout),
        .resource_id = htole32(id),
        .width = htole32(w),
        .height = htole32(h),
        .format = htole32(FMT_BGRX),
        .strides = { htole32(stride) },
        .offsets = { htole32(offset) },
    };
    return cmd(&c, sizeof(c));
}

static uint32_t flush(uint32_t id, uint32_t w, uint32_t h)
{
    struct virtio_gpu_resource_flush c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0),
        .r = { 0, 0, htole32(w), htole32(h) },
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t transfer_3d(uint32_t type, uint32_t ctx, uint32_t id,
                            uint32_t host_off, uint32_t len, uint64_t back_off)
{
    struct virtio_gpu_transfer_host_3d c = {
        .hdr = hdr(type, ctx),
        .box = { .x = htole32(host_off),
                 .w = htole32(len),
                 .h = htole32(1),
                 .d = htole32(1) },
        .offset = htole64(back_off),
        .resource_id = htole32(id),
    };
    return cmd(&c, sizeof(c));
}

static uint32_t assign_uuid(uint32_t id, uint8_t uuid[16])
{
    struct virtio_gpu_resource_assign_uuid c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, 0),
        .resource_id = htole32(id),
    };
    struct virtio_gpu_resp_resource_uuid r;
    uint32_t used = cmd_raw(&c, sizeof(c), &r, sizeof(r));
    uint32_t type = le32toh(r.hdr.type);
    CHECK_EQ(used, type == VIRTIO_GPU_RESP_OK_RESOURCE_UUID ? sizeof(r)
                                                            : sizeof(r.hdr));
    if (uuid) {
        memcpy(uuid, r.uuid, 16);
    }
    return type;
}

static uint32_t hv_r32(uint64_t off)
{
    uint32_t v = 0xdeadbeef;
    CHECK_EQ(mem_read(&mem, HV_GPA + off, &v, 4), 0);
    return le32toh(v);
}

static void hv_w32(uint64_t off, uint32_t v)
{
    v = htole32(v);
    CHECK_EQ(mem_write(&mem, HV_GPA + off, &v, 4), 0);
}

static uint32_t ram_r32(uint64_t gpa)
{
    uint32_t v = 0xdeadbeef;
    CHECK_EQ(mem_read(&mem, gpa, &v, 4), 0);
    return le32toh(v);
}

static void ram_w32(uint64_t gpa, uint32_t v)
{
    v = htole32(v);
    CHECK_EQ(mem_write(&mem, gpa, &v, 4), 0);
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

static struct ui_console *console(uint32_t head)
{
    struct error err = { 0 };
    struct ui_console *c = ui_console_find("gpu0", head, &err);
    CHECK(c != NULL);
    return c;
}

static uint32_t px(pixman_image_t *img, int x, int y)
{
    uint32_t *p = pixman_image_get_data(img);
    return p[y * (pixman_image_get_stride(img) / 4) + x] & 0xffffff;
}

/* ---- tests ---- */

TEST(features_and_config)
{
    setup();
    const uint64_t want =
        (1ull << VIRTIO_GPU_F_CONTEXT_INIT) |
        (1ull << VIRTIO_GPU_F_RESOURCE_BLOB) |
        (1ull << VIRTIO_GPU_F_RESOURCE_UUID) | (1ull << VIRTIO_GPU_F_EDID) |
        (1ull << VIRTIO_GPU_F_VIRGL) | (1ull << VIRTIO_F_VERSION_1);
    CHECK_EQ(d->host_features & want, want);
    CHECK_EQ(d->driver_features & want, want);
    CHECK_EQ(d->ops->device_id, VIRTIO_ID_GPU);
    CHECK(strcmp(d->ops->name, "virtio-gpu-rutabaga-device") == 0);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_capsets)), 1);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_scanouts)), 1);
    /* Fenced commands wait in the control queue: 256 entries. */
    CHECK_EQ(d->vq[0].num_max, CTRL_SIZE);
    /* EDID works as on the 2D device. */
    struct virtio_gpu_cmd_get_edid ge = {
        .hdr = hdr(VIRTIO_GPU_CMD_GET_EDID, 0),
    };
    static struct virtio_gpu_resp_edid re;
    CHECK_EQ(cmd_raw(&ge, sizeof(ge), &re, sizeof(re)), sizeof(re));
    CHECK_EQ(le32toh(re.hdr.type), VIRTIO_GPU_RESP_OK_EDID);
    teardown();

    /* Without the test component nothing but 2D is there, and the 2D
     * device offers none of the 3D features. */
    struct virtio_gpu_conf conf = default_conf();
    struct error err = { 0 };
    conf.rutabaga = false;
    conf.test_component = false;
    CHECK(vd_ram(&mem) == 0);
    gpu = virtio_gpu_new(&mem, &conf, &err);
    CHECK(gpu != NULL);
    d = virtio_gpu_vdev(gpu);
    CHECK_EQ(d->host_features & ((1ull << VIRTIO_GPU_F_CONTEXT_INIT) |
                                 (1ull << VIRTIO_GPU_F_RESOURCE_BLOB) |
                                 (1ull << VIRTIO_GPU_F_VIRGL)),
             0);
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_capsets)), 0);
    uint64_t size = 1;
    CHECK(virtio_gpu_host_visible(gpu, &size) == NULL);
    CHECK_EQ(size, 0);
    virtio_gpu_free(gpu);
    mem_free(&mem);
    ui_shutdown();
}

/* ---- the -device model and the SHM registers ---- */

static int model_create(const char *spec, struct device_instance *inst,
                        struct vm *vm, struct error *err)
{
    struct opts o = { 0 };
    int r = opts_parse(&o, spec, "driver", "-device", err);
    CHECK_EQ(r, 0);
    r = model_check_opts(&virtio_gpu_rutabaga_model, &o, err);
    if (r == 0) {
        r = virtio_gpu_rutabaga_model.create(vm, &o, inst, err);
    }
    opts_free(&o);
    return r;
}

static uint32_t shm_reg(struct bus *bus, uint32_t sel, uint64_t reg)
{
    uint64_t v = 0;
    CHECK(bus_write(bus, VDRV_BASE + VIRTIO_MMIO_SHM_SEL, 4, sel));
    CHECK(bus_read(bus, VDRV_BASE + reg, 4, &v));
    return (uint32_t)v;
}

static void irq_ignore(void *opaque, unsigned n, int level)
{
    (void)opaque;
    (void)n;
    (void)level;
}

TEST(model_and_shm)
{
    CHECK(model_find("virtio-gpu-rutabaga-device") ==
          &virtio_gpu_rutabaga_model);
    struct vm vm;
    memset(&vm, 0, sizeof(vm));
    CHECK(vd_ram(&vm.mem) == 0);
    struct device_instance inst = { 0 };
    struct error err = { 0 };
    CHECK_EQ(model_create("virtio-gpu-rutabaga-device,id=g1,cross-domain=on,"
                          "hostmem=2M,wsi=headless",
                          &inst, &vm, &err),
             0);
    CHECK(inst.model == &virtio_gpu_rutabaga_model && inst.vdev != NULL);
    CHECK_EQ(inst.shm.id, VIRTIO_GPU_SHM_ID_HOST_VISIBLE);
    CHECK_EQ(inst.shm.size, 2ull << 20);
    CHECK(inst.shm.host != NULL);
    d = inst.vdev;
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_CONTEXT_INIT));
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_RESOURCE_BLOB));
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_RESOURCE_UUID));
    CHECK(d->host_features & (1ull << VIRTIO_GPU_F_EDID));
    /* cross-domain only (the test component cannot be asked for). */
    CHECK_EQ(cfg32(offsetof(struct virtio_gpu_config, num_capsets)), 1);

    /* The board's part: the region as guest memory and in the transport;
     * the driver finds it through SHMSel/SHMLen/SHMBase (4.2.2). */
    CHECK(inst.shm.ro_pages != NULL);
    CHECK_EQ(mem_add_block_host(&vm.mem, HV_GPA, inst.shm.size, inst.shm.host,
                                inst.shm.ro_pages, "hostmem", &err),
             0);
    struct bus *bus = bus_new();
    CHECK(bus != NULL);
    struct virtio_mmio *mmio = virtio_mmio_new(
        bus, VDRV_BASE,
        (struct irq_line){ .set = irq_ignore, .opaque = NULL, .n = 0 }, &err);
    CHECK(mmio != NULL);
    virtio_mmio_plug(mmio, inst.vdev);
    virtio_mmio_set_shm(mmio, inst.shm.id, HV_GPA, inst.shm.size);
    CHECK_EQ(shm_reg(bus, 1, VIRTIO_MMIO_SHM_LEN_LOW), 2u << 20);
    CHECK_EQ(shm_reg(bus, 1, VIRTIO_MMIO_SHM_LEN_HIGH), 0);
    CHECK_EQ(shm_reg(bus, 1, VIRTIO_MMIO_SHM_BASE_LOW), 0);
    CHECK_EQ(shm_reg(bus, 1, VIRTIO_MMIO_SHM_BASE_HIGH), 0x40);
    /* Other ids do not exist: all ones. */
    CHECK_EQ(shm_reg(bus, 0, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    CHECK_EQ(shm_reg(bus, 0, VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
    CHECK_EQ(shm_reg(bus, 2, VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffffu);
    CHECK_EQ(shm_reg(bus, 0xffffffffu, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
    uint64_t id = 0;
    CHECK(bus_read(bus, VDRV_BASE + VIRTIO_MMIO_DEVICE_ID, 4, &id));
    CHECK_EQ(id, VIRTIO_ID_GPU);
    /* The region is guest memory that reads zero until a blob is mapped. */
    uint8_t z[64];
    memset(z, 0xaa, sizeof(z));
    CHECK_EQ(mem_read(&vm.mem, HV_GPA + (2ull << 20) - 64, z, 64), 0);
    for (int i = 0; i < 64; i++) {
        CHECK_EQ(z[i], 0);
    }
    CHECK(mem_read(&vm.mem, HV_GPA + (2ull << 20), z, 1) < 0);
    dev_lock();
    virtio_mmio_reset(mmio);
    dev_unlock();
    bus_free(bus);
    virtio_mmio_free(mmio);
    virtio_gpu_rutabaga_model.destroy(inst.state);
    ui_shutdown();
    mem_free(&vm.mem);

    /* No hostmem: no region. */
    CHECK(vd_ram(&vm.mem) == 0);
    memset(&inst, 0, sizeof(inst));
    CHECK_EQ(model_create("virtio-gpu-rutabaga-device,cross-domain=on", &inst,
                          &vm, &err),
             0);
    CHECK_EQ(inst.shm.size, 0);
    CHECK(inst.shm.host == NULL);
    virtio_gpu_rutabaga_model.destroy(inst.state);
    ui_shutdown();

    /* Refused configurations name the property. */
    static const struct {
        const char *spec, *word;
    } bad[] = {
        { "virtio-gpu-rutabaga-device", "cross-domain" },
        { "virtio-gpu-rutabaga-device,cross-domain=off", "cross-domain" },
        { "virtio-gpu-rutabaga-device,cross-domain=on,hostmem=4097",
          "hostmem" },
        { "virtio-gpu-rutabaga-device,cross-domain=on,hostmem=2T", "hostmem" },
        { "virtio-gpu-rutabaga-device,cross-domain=on,gfxstream-vulkan=on",
          "gfxstream-vulkan" },
        { "virtio-gpu-rutabaga-device,cross-domain=on,wsi=x11", "wsi" },
        { "virtio-gpu-rutabaga-device,cross-domain=on,bogus=1", "bogus" },
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct error be = { 0 };
        memset(&inst, 0, sizeof(inst));
        CHECK(model_create(bad[i].spec, &inst, &vm, &be) < 0);
        CHECK(strstr(be.msg, "virtio-gpu-rutabaga-device") != NULL);
        CHECK(strstr(be.msg, bad[i].word) != NULL);
        CHECK_EQ(ui_console_count(), 0);
    }
    mem_free(&vm.mem);
}

TEST(capsets)
{
    setup();
    struct virtio_gpu_get_capset_info ci = {
        .hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0),
        .capset_index = 0,
    };
    struct virtio_gpu_resp_capset_info ri;
    CHECK_EQ(cmd_raw(&ci, sizeof(ci), &ri, sizeof(ri)), sizeof(ri));
    CHECK_EQ(le32toh(ri.hdr.type), VIRTIO_GPU_RESP_OK_CAPSET_INFO);
    CHECK_EQ(le32toh(ri.capset_id), GFX_CAPSET_TEST);
    CHECK_EQ(le32toh(ri.capset_max_version), 1);
    CHECK_EQ(le32toh(ri.capset_max_size), 16);
    /* Past num_capsets. */
    ci.capset_index = htole32(1);
    CHECK_EQ(cmd_raw(&ci, sizeof(ci), &ri, sizeof(ri)), sizeof(ri.hdr));
    CHECK_EQ(le32toh(ri.hdr.type), E_PARAMETER);
    ci.capset_index = htole32(0xffffffffu);
    CHECK_EQ(cmd_raw(&ci, sizeof(ci), &ri, sizeof(ri)), sizeof(ri.hdr));
    CHECK_EQ(le32toh(ri.hdr.type), E_PARAMETER);
    /* A response buffer too small for the info: not run, nothing used. */
    ci.capset_index = 0;
    CHECK_EQ(cmd_raw(&ci, sizeof(ci), NULL, sizeof(ri) - 1), 0);

    struct virtio_gpu_get_capset gc = {
        .hdr = hdr(VIRTIO_GPU_CMD_GET_CAPSET, 0),
        .capset_id = htole32(GFX_CAPSET_TEST),
        .capset_version = htole32(1),
    };
    uint8_t rc[sizeof(struct virtio_gpu_resp_capset) + 16];
    CHECK_EQ(cmd_raw(&gc, sizeof(gc), rc, sizeof(rc)), sizeof(rc));
    struct virtio_gpu_ctrl_hdr h;
    memcpy(&h, rc, sizeof(h));
    CHECK_EQ(le32toh(h.type), VIRTIO_GPU_RESP_OK_CAPSET);
    uint32_t w[4];
    memcpy(w, rc + sizeof(h), 16);
    CHECK_EQ(le32toh(w[0]), 1);
    CHECK_EQ(le32toh(w[1]), 0x54534554); /* "TEST" */
    CHECK_EQ(le32toh(w[2]), 64);         /* rings */
    CHECK_EQ(le32toh(w[3]), 0);
    /* Version 0 is below max_version: fine. */
    gc.capset_version = 0;
    CHECK_EQ(cmd_raw(&gc, sizeof(gc), rc, sizeof(rc)), sizeof(rc));
    memcpy(&h, rc, sizeof(h));
    CHECK_EQ(le32toh(h.type), VIRTIO_GPU_RESP_OK_CAPSET);
    /* Too new a version; a capset not offered (cross-domain, virgl). */
    gc.capset_version = htole32(2);
    CHECK_EQ(cmd_raw(&gc, sizeof(gc), rc, sizeof(rc)), sizeof(h));
    memcpy(&h, rc, sizeof(h));
    CHECK_EQ(le32toh(h.type), E_PARAMETER);
    gc.capset_version = htole32(1);
    static const uint32_t absent[] = { VIRTIO_GPU_CAPSET_VIRGL,
                                       VIRTIO_GPU_CAPSET_CROSS_DOMAIN, 0,
                                       0xffffffffu };
    for (unsigned i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        gc.capset_id = htole32(absent[i]);
        CHECK_EQ(cmd_raw(&gc, sizeof(gc), rc, sizeof(rc)), sizeof(h));
        memcpy(&h, rc, sizeof(h));
        CHECK_EQ(le32toh(h.type), E_PARAMETER);
    }
    /* The whole payload must fit in the response buffer. */
    gc.capset_id = htole32(GFX_CAPSET_TEST);
    CHECK_EQ(cmd_raw(&gc, sizeof(gc), NULL, sizeof(rc) - 1), 0);
    teardown();
}

TEST(contexts)
{
    setup();
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, "first"), OK);
    /* context_init 0 picks the first capset (the test one here). */
    CHECK_EQ(ctx_create(2, 0, NULL), OK);
    /* Flags above the capset id byte are the context type's business. */
    CHECK_EQ(ctx_create(3, GFX_CAPSET_TEST | 0x100, "x"), OK);
    /* Id 0, an id in use, a capset not offered. */
    CHECK_EQ(ctx_create(0, GFX_CAPSET_TEST, NULL), E_CONTEXT);
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), E_CONTEXT);
    CHECK_EQ(ctx_create(4, VIRTIO_GPU_CAPSET_CROSS_DOMAIN, NULL), E_PARAMETER);
    CHECK_EQ(ctx_create(4, VIRTIO_GPU_CAPSET_VIRGL2, NULL), E_PARAMETER);
    /* A debug name longer than the field: nlen is not trusted. */
    struct virtio_gpu_ctx_create c = {
        .hdr = hdr(VIRTIO_GPU_CMD_CTX_CREATE, 5),
        .nlen = htole32(0xffffffffu),
        .context_init = htole32(GFX_CAPSET_TEST),
    };
    memset(c.debug_name, 'n', sizeof(c.debug_name));
    CHECK_EQ(cmd(&c, sizeof(c)), OK);
    /* Too short a CTX_CREATE. */
    CHECK_EQ(cmd(&c, sizeof(c) - 1), E_UNSPEC);

    /* SUBMIT_3D: the test context type's stream. */
    uint32_t nop[3] = { TEST_OP_NOP, TEST_OP_NOP, TEST_OP_NOP };
    CHECK_EQ(submit(1, nop, 3), OK);
    CHECK_EQ(submit(1, nop, 0), OK);
    uint32_t bad_op[1] = { 99 };
    CHECK_EQ(submit(1, bad_op, 1), E_PARAMETER);
    uint32_t short_write[2] = { TEST_OP_WRITE, 1 };
    CHECK_EQ(submit(1, short_write, 2), E_PARAMETER);
    CHECK_EQ(submit(42, nop, 1), E_CONTEXT);
    CHECK_EQ(submit(0, nop, 1), E_CONTEXT);
    /* A size the chain does not hold, a size not of whole words. */
    uint8_t buf[64];
    uint32_t len = build_submit(buf, hdr(0, 1), nop, 2);
    struct virtio_gpu_cmd_submit s;
    memcpy(&s, buf, sizeof(s));
    s.size = htole32(12);
    memcpy(buf, &s, sizeof(s));
    CHECK_EQ(cmd(buf, len), E_PARAMETER);
    s.size = htole32(0xffffffffu);
    memcpy(buf, &s, sizeof(s));
    CHECK_EQ(cmd(buf, len), E_PARAMETER);
    s.size = htole32(6);
    memcpy(buf, &s, sizeof(s));
    CHECK_EQ(cmd(buf, len), E_PARAMETER);

    /* Attach and detach: ids checked. */
    struct entry e = { BACK_GPA, PAGE };
    CHECK_EQ(create_blob(0, 10, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, &e, 1), OK);
    CHECK_EQ(attach_ctx(1, 10), OK);
    CHECK_EQ(attach_ctx(1, 10), OK); /* again: no change */
    CHECK_EQ(attach_ctx(42, 10), E_CONTEXT);
    CHECK_EQ(attach_ctx(0, 10), E_CONTEXT);
    CHECK_EQ(attach_ctx(1, 11), E_RESOURCE);
    CHECK_EQ(ctx_resource(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10), OK);
    CHECK_EQ(ctx_resource(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1, 10),
             E_RESOURCE);
    CHECK_EQ(ctx_resource(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 42, 10),
             E_CONTEXT);
    CHECK_EQ(attach_ctx(2, 10), OK);

    /* Destroy: unknown ids; the id is free again afterwards; a resource
     * attached to a destroyed context lives on. */
    CHECK_EQ(ctx_simple(VIRTIO_GPU_CMD_CTX_DESTROY, 42), E_CONTEXT);
    CHECK_EQ(ctx_simple(VIRTIO_GPU_CMD_CTX_DESTROY, 0), E_CONTEXT);
    CHECK_EQ(ctx_simple(VIRTIO_GPU_CMD_CTX_DESTROY, 2), OK);
    CHECK_EQ(ctx_simple(VIRTIO_GPU_CMD_CTX_DESTROY, 2), E_CONTEXT);
    CHECK_EQ(submit(2, nop, 1), E_CONTEXT);
    CHECK_EQ(ctx_create(2, GFX_CAPSET_TEST, "again"), OK);
    CHECK_EQ(submit(2, nop, 1), OK);
    CHECK_EQ(unref(10), OK);
    CHECK_EQ(unref(10), E_RESOURCE);
    /* RESOURCE_CREATE_3D: no context type here makes them. */
    struct virtio_gpu_resource_create_3d c3 = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, 1),
        .resource_id = htole32(20),
        .width = htole32(4),
        .height = htole32(4),
        .depth = htole32(1),
    };
    CHECK_EQ(cmd(&c3, sizeof(c3)), E_UNSPEC);
    teardown();
}

TEST(host3d_blob_mapping)
{
    setup();
    uint32_t info = 0;
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, "blobs"), OK);
    /* A two-page HOST3D blob, written by the context, mapped at 64 KiB. */
    CHECK_EQ(create_blob(1, 5, VIRTIO_GPU_BLOB_MEM_HOST3D, MAPPABLE, 2 * PAGE,
                         NULL, 0),
             OK);
    CHECK_EQ(attach_ctx(1, 5), OK);
    uint32_t wr[4] = { TEST_OP_WRITE, 5, 0x1008, 0xcafef00d };
    CHECK_EQ(submit(1, wr, 4), OK);
    CHECK_EQ(hv_r32(0x10000 + 0x1008), 0); /* not mapped yet */
    CHECK_EQ(map_blob(5, 0x10000, &info), VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(info, VIRTIO_GPU_MAP_CACHE_CACHED);
    CHECK_EQ(hv_r32(0x10000 + 0x1008), 0xcafef00d);
    CHECK_EQ(hv_r32(0x10000), 0);
    /* The guest writes through the window; the context sees it. */
    hv_w32(0x10000 + 4, 0x01020304);
    uint32_t wr2[4] = { TEST_OP_WRITE, 5, 8, 0x55667788 };
    CHECK_EQ(submit(1, wr2, 4), OK);
    CHECK_EQ(hv_r32(0x10000 + 4), 0x01020304);
    CHECK_EQ(hv_r32(0x10000 + 8), 0x55667788);
    /* Neighbours of the mapping stay zero. */
    CHECK_EQ(hv_r32(0x10000 - 4), 0);
    CHECK_EQ(hv_r32(0x10000 + 2 * PAGE), 0);
    /* A second blob beside it; overlaps refused, to the byte. */
    CHECK_EQ(
        create_blob(1, 6, VIRTIO_GPU_BLOB_MEM_HOST3D, MAPPABLE, 100, NULL, 0),
        OK);
    CHECK_EQ(map_blob(6, 0x10000, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(6, 0x10000 + PAGE, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(6, 0x10000 - PAGE, &info), VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(unmap_blob(6), OK);
    CHECK_EQ(map_blob(6, 0x10000 + 2 * PAGE, &info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    /* Mapping twice is refused; past the end of the region; unaligned. */
    CHECK_EQ(map_blob(5, 0x40000, NULL), E_PARAMETER);
    CHECK_EQ(unmap_blob(6), OK);
    CHECK_EQ(map_blob(6, HV_SIZE, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(6, HV_SIZE - PAGE, &info), VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(unmap_blob(6), OK);
    CHECK_EQ(create_blob(1, 11, VIRTIO_GPU_BLOB_MEM_HOST3D, MAPPABLE, PAGE + 1,
                         NULL, 0),
             OK); /* two pages, rounded up */
    CHECK_EQ(map_blob(11, HV_SIZE - PAGE, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(11, HV_SIZE - 2 * PAGE, &info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(unmap_blob(11), OK);
    CHECK_EQ(map_blob(6, 0x20001, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(6, 0xfffffffffffff000ull, NULL), E_PARAMETER);
    CHECK_EQ(map_blob(6, UINT64_MAX, NULL), E_PARAMETER);
    /* Unknown resources. */
    CHECK_EQ(map_blob(99, 0, NULL), E_RESOURCE);
    CHECK_EQ(map_blob(0, 0, NULL), E_RESOURCE);
    CHECK_EQ(unmap_blob(99), E_RESOURCE);
    CHECK_EQ(unmap_blob(6), E_PARAMETER); /* not mapped */

    /* Unmap: the range reads zero; a new map elsewhere shows the same
     * memory. */
    CHECK_EQ(unmap_blob(5), OK);
    CHECK_EQ(hv_r32(0x10000 + 0x1008), 0);
    CHECK_EQ(hv_r32(0x10000 + 4), 0);
    CHECK_EQ(map_blob(5, HV_SIZE - 2 * PAGE, &info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(hv_r32(HV_SIZE - 2 * PAGE + 0x1008), 0xcafef00d);
    CHECK_EQ(hv_r32(HV_SIZE - 2 * PAGE + 4), 0x01020304);
    /* Unref while mapped: the mapping goes with it. */
    CHECK_EQ(unref(5), OK);
    CHECK_EQ(hv_r32(HV_SIZE - 2 * PAGE + 0x1008), 0);
    CHECK_EQ(map_blob(6, HV_SIZE - PAGE, &info), VIRTIO_GPU_RESP_OK_MAP_INFO);

    /* Not mappable: no MAPPABLE flag; GUEST memory (no host memory). */
    CHECK_EQ(create_blob(1, 7, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, PAGE, NULL, 0),
             OK);
    CHECK_EQ(map_blob(7, 0, NULL), E_UNSPEC);
    struct entry e = { BACK_GPA, PAGE };
    CHECK_EQ(
        create_blob(0, 8, VIRTIO_GPU_BLOB_MEM_GUEST, MAPPABLE, PAGE, &e, 1),
        OK);
    CHECK_EQ(map_blob(8, 0, NULL), E_UNSPEC);

    /* HOST3D_GUEST: guest backing plus host memory. The guest writes the
     * mapped window; TRANSFER_FROM_HOST_3D copies it into the backing,
     * TRANSFER_TO_HOST_3D copies the backing into the window. */
    struct entry be[2] = { { BACK_GPA + 0x3000, 1024 },
                           { BACK_GPA + 0x1000, 3072 } };
    CHECK_EQ(create_blob(1, 9, VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST, MAPPABLE, PAGE,
                         be, 2),
             OK);
    CHECK_EQ(map_blob(9, 0x80000, &info), VIRTIO_GPU_RESP_OK_MAP_INFO);
    hv_w32(0x80000 + 1020, 0xa1b2c3d4);
    hv_w32(0x80000 + 1024, 0x0badf00d);
    CHECK_EQ(
        transfer_3d(VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, 1, 9, 1020, 8, 1020),
        OK);
    CHECK_EQ(ram_r32(BACK_GPA + 0x3000 + 1020), 0xa1b2c3d4);
    CHECK_EQ(ram_r32(BACK_GPA + 0x1000), 0x0badf00d);
    ram_w32(BACK_GPA + 0x1000 + 100, 0x77777777);
    CHECK_EQ(
        transfer_3d(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 9, 8, 4, 1024 + 100),
        OK);
    CHECK_EQ(hv_r32(0x80000 + 8), 0x77777777);
    /* Outside the blob, unknown ids. */
    CHECK_EQ(
        transfer_3d(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 9, PAGE - 2, 4, 0),
        E_PARAMETER);
    CHECK_EQ(
        transfer_3d(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 9, 0, 8, PAGE - 4),
        E_PARAMETER);
    CHECK_EQ(transfer_3d(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 1, 99, 0, 4, 0),
             E_RESOURCE);
    CHECK_EQ(transfer_3d(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, 42, 9, 0, 4, 0),
             E_CONTEXT);
    teardown();
}

TEST(blob_errors)
{
    setup();
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    struct entry e[2] = { { BACK_GPA, PAGE }, { BACK_GPA + 2 * PAGE, 100 } };
    /* Guest memory shorter than the blob (by one byte). */
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE + 101, e, 2),
             E_PARAMETER);
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, NULL, 0),
             E_PARAMETER);
    CHECK_EQ(create_blob(1, 1, VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST, MAPPABLE,
                         PAGE + 101, e, 2),
             E_PARAMETER);
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE + 100, e, 2),
             OK);
    /* Duplicate and zero ids. */
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, e, 1),
             E_RESOURCE);
    CHECK_EQ(create_blob(0, 0, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, e, 1),
             E_RESOURCE);
    /* Size 0, or one that overflows a page round-up; flags and blob_mem
     * unknown. */
    CHECK_EQ(create_blob(1, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, 0, NULL, 0),
             E_PARAMETER);
    CHECK_EQ(
        create_blob(1, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, UINT64_MAX, NULL, 0),
        E_PARAMETER);
    CHECK_EQ(create_blob(1, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 0x80, PAGE, NULL, 0),
             E_PARAMETER);
    CHECK_EQ(create_blob(1, 2, 0, 0, PAGE, NULL, 0), E_PARAMETER);
    CHECK_EQ(create_blob(1, 2, 4, 0, PAGE, NULL, 0), E_PARAMETER);
    /* HOST3D needs a context; GUEST does not. */
    CHECK_EQ(create_blob(42, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, PAGE, NULL, 0),
             E_CONTEXT);
    CHECK_EQ(create_blob(0, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, 0, PAGE, NULL, 0),
             E_CONTEXT);
    /* Backing outside guest RAM. */
    struct entry wild = { 0x1000, PAGE };
    CHECK_EQ(create_blob(0, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, &wild, 1),
             E_PARAMETER);
    struct entry end = { VD_RAM_BASE + VD_RAM_SIZE - 16, 32 };
    CHECK_EQ(create_blob(0, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 32, &end, 1),
             E_PARAMETER);
    /* Backing in the host-visible region is not guest RAM to build on:
     * whatever gfx answers, nothing breaks. */
    struct entry hv = { HV_GPA, PAGE };
    uint32_t r = create_blob(0, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, &hv, 1);
    CHECK(r == OK || r == E_PARAMETER);
    /* More entries than allowed, and than the chain carries. */
    uint8_t buf[REQ_SLOT];
    uint32_t len =
        create_blob_req(buf, 0, 3, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, e, 1);
    struct virtio_gpu_resource_create_blob c;
    memcpy(&c, buf, sizeof(c));
    c.nr_entries = htole32(GFX_MAX_BACKING_ENTRIES + 1);
    memcpy(buf, &c, sizeof(c));
    CHECK_EQ(cmd(buf, len), E_PARAMETER);
    c.nr_entries = htole32(2);
    memcpy(buf, &c, sizeof(c));
    CHECK_EQ(cmd(buf, len), E_UNSPEC);
    CHECK_EQ(cmd(buf, sizeof(c) - 1), E_UNSPEC);

    /* SET_SCANOUT_BLOB: a framebuffer larger than the blob, a stride
     * shorter than a row, a scanout that does not exist, an unknown
     * resource, a 2D resource. */
    CHECK_EQ(scanout_blob(0, 1, 40, 40, 160, 0), E_PARAMETER);
    /* The last byte shown is the blob's last byte; one more is too many. */
    CHECK_EQ(scanout_blob(0, 1, 8, 8, 64, PAGE + 100 - (7 * 64 + 32)), OK);
    CHECK_EQ(scanout_blob(0, 1, 8, 8, 64, PAGE + 100 - (7 * 64 + 32) + 1),
             E_PARAMETER);
    CHECK_EQ(scanout_blob(0, 1, 8, 8, 16, 0), E_PARAMETER);
    CHECK_EQ(scanout_blob(1, 1, 8, 8, 32, 0), E_SCANOUT);
    CHECK_EQ(scanout_blob(16, 1, 8, 8, 32, 0), E_SCANOUT);
    CHECK_EQ(scanout_blob(0, 99, 8, 8, 32, 0), E_RESOURCE);
    struct virtio_gpu_resource_create_2d c2 = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0),
        .resource_id = htole32(4),
        .format = htole32(FMT_BGRX),
        .width = htole32(8),
        .height = htole32(8),
    };
    CHECK_EQ(cmd(&c2, sizeof(c2)), OK);
    CHECK_EQ(scanout_blob(0, 4, 8, 8, 32, 0), E_PARAMETER);
    /* ASSIGN_UUID, UNREF of unknown ids. */
    CHECK_EQ(assign_uuid(99, NULL), E_RESOURCE);
    CHECK_EQ(assign_uuid(0, NULL), E_RESOURCE);
    CHECK_EQ(unref(99), E_RESOURCE);
    teardown();
}

TEST(scanout_blob)
{
    setup();
    struct ui_console *con = console(0);
    const uint32_t W = 32, H = 8, STRIDE = 160; /* rows padded */
    /* A GUEST blob in two scattered pieces (the second first in RAM). */
    struct entry e[2] = { { BACK_GPA + 0x10000, 640 },
                          { BACK_GPA + 0x1000, 1280 } };
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, 1920, e, 2), OK);
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            uint64_t off = 64 + y * STRIDE + x * 4;
            uint64_t gpa = off < 640 ? e[0].gpa + off : e[1].gpa + off - 640;
            ram_w32(gpa, 0xff000000u | (x << 16) | (y << 8) | 0x5a);
        }
    }
    CHECK_EQ(scanout_blob(0, 1, W, H, STRIDE, 64), OK);
    pixman_image_t *snap = ui_console_snapshot(con);
    CHECK(snap != NULL);
    if (snap) {
        CHECK_EQ(pixman_image_get_width(snap), W);
        CHECK_EQ(pixman_image_get_height(snap), H);
        CHECK_EQ(px(snap, 0, 0), 0x00005a);
        CHECK_EQ(px(snap, 31, 7), 0x1f075a);
        CHECK_EQ(px(snap, 23, 3), 0x17035a); /* the first piece's last */
        CHECK_EQ(px(snap, 24, 3), 0x18035a); /* the second's first */
        pixman_image_unref(snap);
    }
    /* The scanout shows a copy, refreshed on RESOURCE_FLUSH. */
    ram_w32(e[1].gpa + 64 + 7 * STRIDE + 31 * 4 - 640, 0xff123456);
    snap = ui_console_snapshot(con);
    CHECK(snap && px(snap, 31, 7) == 0x1f075a);
    if (snap) {
        pixman_image_unref(snap);
    }
    CHECK_EQ(flush(1, W, H), OK);
    snap = ui_console_snapshot(con);
    CHECK(snap && px(snap, 31, 7) == 0x123456);
    if (snap) {
        pixman_image_unref(snap);
    }

    /* A HOST3D blob the guest draws into through the mapped window. */
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(create_blob(1, 2, VIRTIO_GPU_BLOB_MEM_HOST3D, MAPPABLE,
                         16 * 16 * 4, NULL, 0),
             OK);
    CHECK_EQ(map_blob(2, 0x4000, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
    for (uint32_t i = 0; i < 16 * 16; i++) {
        hv_w32(0x4000 + i * 4, 0xff000000u | i * 0x010101u);
    }
    CHECK_EQ(scanout_blob(0, 2, 16, 16, 64, 0), OK);
    snap = ui_console_snapshot(con);
    CHECK(snap != NULL);
    if (snap) {
        CHECK_EQ(pixman_image_get_width(snap), 16);
        CHECK_EQ(px(snap, 0, 0), 0);
        CHECK_EQ(px(snap, 3, 2), 35 * 0x010101u);
        CHECK_EQ(px(snap, 15, 15), 255 * 0x010101u);
        pixman_image_unref(snap);
    }
    hv_w32(0x4000, 0xffabcdef);
    CHECK_EQ(flush(2, 16, 16), OK);
    snap = ui_console_snapshot(con);
    CHECK(snap && px(snap, 0, 0) == 0xabcdef);
    if (snap) {
        pixman_image_unref(snap);
    }
    /* Unref of the shown blob disables the scanout; resource 0 too. */
    CHECK_EQ(unref(2), OK);
    uint32_t w = 1, h = 1;
    ui_console_size(con, &w, &h);
    CHECK_EQ(w, 0);
    CHECK_EQ(h, 0);
    CHECK_EQ(scanout_blob(0, 1, W, H, STRIDE, 64), OK);
    ui_console_size(con, &w, &h);
    CHECK_EQ(w, W);
    CHECK_EQ(scanout_blob(0, 0, W, H, STRIDE, 64), OK);
    ui_console_size(con, &w, &h);
    CHECK_EQ(w, 0);
    teardown();
}

TEST(uuid)
{
    setup();
    struct entry e = { BACK_GPA, PAGE };
    CHECK_EQ(create_blob(0, 1, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, &e, 1), OK);
    CHECK_EQ(create_blob(0, 2, VIRTIO_GPU_BLOB_MEM_GUEST, 0, PAGE, &e, 1), OK);
    uint8_t a[16], b[16], a2[16];
    CHECK_EQ(assign_uuid(1, a), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK_EQ(assign_uuid(2, b), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK_EQ(assign_uuid(1, a2), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK(memcmp(a, a2, 16) == 0);
    CHECK(memcmp(a, b, 16) != 0);
    CHECK_EQ(a[6] >> 4, 4);      /* version 4 */
    CHECK_EQ(a[8] & 0xc0, 0x80); /* RFC 4122 variant */
    /* Too small a response buffer: not run. */
    struct virtio_gpu_resource_assign_uuid c = {
        .hdr = hdr(VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID, 0),
        .resource_id = htole32(1),
    };
    CHECK_EQ(cmd_raw(&c, sizeof(c), NULL,
                     sizeof(struct virtio_gpu_resp_resource_uuid) - 1),
             0);
    /* A fenced ASSIGN_UUID keeps its payload and echoes the fence. */
    c.hdr.flags = htole32(FENCE);
    c.hdr.fence_id = htole64(77);
    struct virtio_gpu_resp_resource_uuid r;
    CHECK_EQ(cmd_raw(&c, sizeof(c), &r, sizeof(r)), sizeof(r));
    CHECK_EQ(le32toh(r.hdr.type), VIRTIO_GPU_RESP_OK_RESOURCE_UUID);
    CHECK_EQ(le64toh(r.hdr.fence_id), 77);
    CHECK(memcmp(r.uuid, a, 16) == 0);
    teardown();
}

/* Each of heads[0..n) completes next, in that order, with a fenced OK
 * answer echoing ring and fence id. */
static void expect_done(const uint16_t *heads, const uint64_t *ids,
                        const uint8_t *rings, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint32_t len = 0;
        CHECK_EQ(next_used(&len), heads[i]);
        CHECK_EQ(len, sizeof(struct virtio_gpu_ctrl_hdr));
        struct virtio_gpu_ctrl_hdr h = resp_hdr(heads[i]);
        CHECK_EQ(le32toh(h.type), OK);
        CHECK_EQ(le32toh(h.flags), FENCE | RING_IDX);
        CHECK_EQ(le64toh(h.fence_id), ids[i]);
        CHECK_EQ(h.ring_idx, rings[i]);
    }
}

TEST(fences)
{
    setup();
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(ctx_create(2, GFX_CAPSET_TEST, NULL), OK);
    /* Unheld: a ring fence signals as soon as its command has run. */
    uint16_t h0 = post_fenced_nop(1, 5, 1);
    kick();
    expect_done(&h0, (uint64_t[]){ 1 }, (uint8_t[]){ 5 }, 1);
    CHECK_EQ(le32toh(resp_hdr(h0).ctx_id), 1);
    CHECK_EQ(next_used(NULL), -1);

    /* Hold rings 0, 1 and 63 of context 1 and ring 0 of context 2. */
    CHECK_EQ(hold(1, 0), OK);
    CHECK_EQ(hold(1, 1), OK);
    CHECK_EQ(hold(1, 63), OK);
    CHECK_EQ(hold(2, 0), OK);
    uint16_t a1 = post_fenced_nop(1, 0, 10);
    uint16_t b1 = post_fenced_nop(1, 1, 11);
    uint16_t c1 = post_fenced_nop(2, 0, 12);
    uint16_t a2 = post_fenced_nop(1, 0, 13);
    /* Unfenced and globally fenced commands pass the held ones. */
    struct virtio_gpu_ctrl_hdr gdi = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
    uint16_t u1 =
        post(&gdi, sizeof(gdi), sizeof(struct virtio_gpu_resp_display_info));
    gdi.flags = htole32(FENCE);
    gdi.fence_id = htole64(14);
    uint16_t u2 =
        post(&gdi, sizeof(gdi), sizeof(struct virtio_gpu_resp_display_info));
    uint16_t b2 = post_fenced_nop(1, 1, 15);
    uint16_t z1 = post_fenced_nop(1, 63, 16);
    kick();
    uint32_t len = 0;
    CHECK_EQ(next_used(&len), u1);
    CHECK_EQ(len, sizeof(struct virtio_gpu_resp_display_info));
    CHECK_EQ(next_used(&len), u2);
    CHECK_EQ(len, sizeof(struct virtio_gpu_resp_display_info));
    CHECK_EQ(le64toh(resp_hdr(u2).fence_id), 14);
    CHECK_EQ(le32toh(resp_hdr(u2).flags), FENCE);
    CHECK_EQ(next_used(NULL), -1);
    /* Their answers are written already; only the completion waits. */
    CHECK_EQ(le32toh(resp_hdr(a1).type), OK);
    /* More traffic while they wait (cmd() sees exactly one completion). */
    CHECK_EQ(ctx_create(3, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(submit(3, (uint32_t[]){ TEST_OP_NOP }, 1), OK);

    /* Ring 1 of context 1: both of its fences, in order, nothing else;
     * the releasing submit completes after them. */
    uint8_t buf[64];
    uint32_t rel1[2] = { TEST_OP_RELEASE, 1 };
    uint16_t r = post(buf, build_submit(buf, hdr(0, 1), rel1, 2),
                      sizeof(struct virtio_gpu_ctrl_hdr));
    kick();
    expect_done((uint16_t[]){ b1, b2 }, (uint64_t[]){ 11, 15 },
                (uint8_t[]){ 1, 1 }, 2);
    CHECK_EQ(next_used(NULL), r);
    CHECK_EQ(next_used(NULL), -1);
    /* Ring 0 of context 2 is not ring 0 of context 1. */
    uint32_t rel0[2] = { TEST_OP_RELEASE, 0 };
    r = post(buf, build_submit(buf, hdr(0, 2), rel0, 2),
             sizeof(struct virtio_gpu_ctrl_hdr));
    kick();
    expect_done(&c1, (uint64_t[]){ 12 }, (uint8_t[]){ 0 }, 1);
    CHECK_EQ(le32toh(resp_hdr(c1).ctx_id), 2);
    CHECK_EQ(next_used(NULL), r);
    CHECK_EQ(next_used(NULL), -1);
    r = post(buf, build_submit(buf, hdr(0, 1), rel0, 2),
             sizeof(struct virtio_gpu_ctrl_hdr));
    kick();
    expect_done((uint16_t[]){ a1, a2 }, (uint64_t[]){ 10, 13 },
                (uint8_t[]){ 0, 0 }, 2);
    CHECK_EQ(next_used(NULL), r);
    CHECK_EQ(next_used(NULL), -1);
    /* Ring 63, the last, released by a submit fenced on ring 2 (not
     * held): the held fence first, then the releasing command. */
    uint32_t rel63[2] = { TEST_OP_RELEASE, 63 };
    r = post(buf, build_submit(buf, fenced(0, 1, 2, 17), rel63, 2),
             sizeof(struct virtio_gpu_ctrl_hdr));
    kick();
    expect_done((uint16_t[]){ z1, r }, (uint64_t[]){ 16, 17 },
                (uint8_t[]){ 63, 2 }, 2);
    CHECK_EQ(next_used(NULL), -1);

    /* Async signalling (a component's worker thread): nothing until the
     * device polls (the main loop does not run here), then the fence. */
    CHECK_EQ(hold(2, 7), OK);
    uint16_t q1 = post_fenced_nop(2, 7, 200);
    kick();
    CHECK_EQ(next_used(NULL), -1);
    uint32_t rela[2] = { TEST_OP_RELEASE_ASYNC, 7 };
    CHECK_EQ(submit(2, rela, 2), OK);
    CHECK_EQ(next_used(NULL), -1);
    dev_lock();
    virtio_gpu_fence_poll(gpu);
    dev_unlock();
    expect_done(&q1, (uint64_t[]){ 200 }, (uint8_t[]){ 7 }, 1);
    CHECK_EQ(next_used(NULL), -1);

    /* Destroying a context retires its held fences (its rings end). */
    CHECK_EQ(hold(2, 3), OK);
    uint16_t k1 = post_fenced_nop(2, 3, 300);
    uint16_t k2 = post_fenced_nop(2, 3, 301);
    uint16_t k3 = post_fenced_nop(1, 0, 302); /* released above */
    kick();
    expect_done(&k3, (uint64_t[]){ 302 }, (uint8_t[]){ 0 }, 1);
    CHECK_EQ(next_used(NULL), -1);
    struct virtio_gpu_ctrl_hdr dh = hdr(VIRTIO_GPU_CMD_CTX_DESTROY, 2);
    uint16_t dd = post(&dh, sizeof(dh), sizeof(dh));
    kick();
    expect_done((uint16_t[]){ k1, k2 }, (uint64_t[]){ 300, 301 },
                (uint8_t[]){ 3, 3 }, 2);
    CHECK_EQ(next_used(NULL), dd);
    CHECK_EQ(le32toh(resp_hdr(dd).type), OK);
    CHECK_EQ(next_used(NULL), -1);
    /* An async signal queued for a context that is then destroyed is
     * dropped: it does not reach a new context of the same id. */
    CHECK_EQ(ctx_create(2, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(hold(2, 4), OK);
    uint16_t n1 = post_fenced_nop(2, 4, 400);
    kick();
    uint32_t rela4[2] = { TEST_OP_RELEASE_ASYNC, 4 };
    CHECK_EQ(submit(2, rela4, 2), OK);
    CHECK_EQ(next_used(NULL), -1);
    dd = post(&dh, sizeof(dh), sizeof(dh));
    kick();
    expect_done(&n1, (uint64_t[]){ 400 }, (uint8_t[]){ 4 }, 1);
    CHECK_EQ(next_used(NULL), dd);
    CHECK_EQ(ctx_create(2, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(hold(2, 4), OK);
    post_fenced_nop(2, 4, 350);
    kick();
    dev_lock();
    virtio_gpu_fence_poll(gpu);
    dev_unlock();
    CHECK_EQ(next_used(NULL), -1);
    teardown();
}

TEST(fence_errors)
{
    setup();
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    /* A ring fence on a context that does not exist: the command ran
     * (a 2D resource was made) but the fence cannot be kept. */
    struct virtio_gpu_resource_create_2d c = {
        .hdr = fenced(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 9, 0, 5),
        .resource_id = htole32(1),
        .format = htole32(FMT_BGRX),
        .width = htole32(4),
        .height = htole32(4),
    };
    struct virtio_gpu_ctrl_hdr h;
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), E_CONTEXT);
    CHECK_EQ(le64toh(h.fence_id), 5);
    c.hdr.ctx_id = 0;
    c.resource_id = htole32(2);
    CHECK_EQ(cmd_raw(&c, sizeof(c), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), E_CONTEXT);
    /* ring_idx >= 64, for every value the u8 can take. */
    for (unsigned ring = 64; ring < 256; ring += 37) {
        uint8_t buf[64];
        uint32_t nop = TEST_OP_NOP;
        uint32_t len =
            build_submit(buf, fenced(0, 1, (uint8_t)ring, 6), &nop, 1);
        CHECK_EQ(cmd_raw(buf, len, &h, sizeof(h)), sizeof(h));
        CHECK_EQ(le32toh(h.type), E_PARAMETER);
        CHECK_EQ(h.ring_idx, ring);
    }
    /* A fence id not above the last one signalled on its ring is done
     * already (the timeline says so): answered at once, not held
     * forever. Linux never does this; a hostile guest may. */
    uint16_t m1 = post_fenced_nop(1, 9, 50);
    kick();
    expect_done(&m1, (uint64_t[]){ 50 }, (uint8_t[]){ 9 }, 1);
    uint16_t m2 = post_fenced_nop(1, 9, 20);
    uint16_t m3 = post_fenced_nop(1, 9, 50);
    kick();
    expect_done((uint16_t[]){ m2, m3 }, (uint64_t[]){ 20, 50 },
                (uint8_t[]){ 9, 9 }, 2);
    CHECK_EQ(next_used(NULL), -1);
    /* HOLD past the rings is refused by the test component. */
    CHECK_EQ(hold(1, 64), E_PARAMETER);
    /* A failing fenced command is answered at once, even on a held
     * ring. */
    CHECK_EQ(hold(1, 0), OK);
    uint8_t buf[64];
    uint32_t bad = 99;
    uint32_t len = build_submit(buf, fenced(0, 1, 0, 7), &bad, 1);
    CHECK_EQ(cmd_raw(buf, len, &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), E_PARAMETER);
    /* Without INFO_RING_IDX the global timeline: at once, held ring or
     * not. */
    struct virtio_gpu_ctrl_hdr g = hdr(VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 1);
    struct virtio_gpu_ctx_resource cr = { .hdr = g, .resource_id = 0 };
    cr.hdr.flags = htole32(FENCE);
    cr.hdr.fence_id = htole64(8);
    CHECK_EQ(cmd_raw(&cr, sizeof(cr), &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), E_RESOURCE);
    uint32_t nop = TEST_OP_NOP;
    len = build_submit(buf, hdr(0, 1), &nop, 1);
    memcpy(&g, buf, sizeof(g));
    g.flags = htole32(FENCE);
    g.fence_id = htole64(9);
    memcpy(buf, &g, sizeof(g));
    CHECK_EQ(cmd_raw(buf, len, &h, sizeof(h)), sizeof(h));
    CHECK_EQ(le32toh(h.type), OK);
    CHECK_EQ(le32toh(h.flags), FENCE);
    teardown();
}

/* A guest that fills the control queue with fences that never signal,
 * then resets: nothing completes into the new rings, every host fd and
 * byte comes back (ASan's leak check covers memory), and the device
 * works again. */
TEST(reset_with_held_fences)
{
    unsigned fds_start = open_fds();
    setup();
    unsigned fds_before = open_fds();
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(ctx_create(2, GFX_CAPSET_TEST, NULL), OK);
    for (uint32_t i = 0; i < 8; i++) {
        CHECK_EQ(create_blob(1 + i % 2, 10 + i, VIRTIO_GPU_BLOB_MEM_HOST3D,
                             MAPPABLE, PAGE, NULL, 0),
                 OK);
        CHECK_EQ(attach_ctx(1 + i % 2, 10 + i), OK);
        CHECK_EQ(map_blob(10 + i, (uint64_t)i * PAGE, NULL),
                 VIRTIO_GPU_RESP_OK_MAP_INFO);
    }
    hv_w32(0, 0x12345678);
    CHECK_EQ(open_fds(), fds_before + 8);
    for (uint32_t r = 0; r < 4; r++) {
        CHECK_EQ(hold(1, r), OK);
        CHECK_EQ(hold(2, r), OK);
    }
    /* Most of the chains the queue can hold, each a held fence. */
    uint64_t fence = 1;
    for (unsigned i = 0; i < MAX_FLIGHT - 8; i++) {
        post_fenced_nop(1 + i % 2, (uint8_t)(i % 4), fence++);
    }
    kick();
    CHECK_EQ(next_used(NULL), -1);
    /* An async release queued but not delivered before the reset. */
    CHECK_EQ(hold(1, 5), OK);
    post_fenced_nop(1, 5, fence++);
    kick();
    uint32_t rela[2] = { TEST_OP_RELEASE_ASYNC, 5 };
    CHECK_EQ(submit(1, rela, 2), OK);
    /* Unfenced commands still get through. */
    struct virtio_gpu_ctrl_hdr gdi = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0);
    uint16_t u =
        post(&gdi, sizeof(gdi), sizeof(struct virtio_gpu_resp_display_info));
    kick();
    CHECK_EQ(next_used(NULL), u);
    CHECK_EQ(next_used(NULL), -1);
    uint16_t used_before = 0;
    mem_read(&mem, ctrlq.used + 2, &used_before, 2);

    /* Reset (status 0): the held chains are dropped, not answered. */
    dev_lock();
    virtio_set_status(d, 0);
    dev_unlock();
    uint16_t used_after = 0;
    mem_read(&mem, ctrlq.used + 2, &used_after, 2);
    CHECK_EQ(used_after, used_before);
    /* The blobs are gone, their fds closed, the region zero again; the
     * queued async signal is void. */
    CHECK_EQ(open_fds(), fds_before);
    CHECK_EQ(hv_r32(0), 0);
    dev_lock();
    virtio_gpu_fence_poll(gpu);
    dev_unlock();
    mem_read(&mem, ctrlq.used + 2, &used_after, 2);
    CHECK_EQ(used_after, used_before);

    /* The driver starts over with fresh rings: the same ids work, and
     * fences are not held any more. */
    driver_init();
    CHECK_EQ(next_used(NULL), -1);
    CHECK_EQ(ctx_create(1, GFX_CAPSET_TEST, NULL), OK);
    CHECK_EQ(
        create_blob(1, 10, VIRTIO_GPU_BLOB_MEM_HOST3D, MAPPABLE, PAGE, NULL, 0),
        OK);
    CHECK_EQ(map_blob(10, 0, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(hv_r32(0), 0);
    uint16_t f = post_fenced_nop(1, 5, 1);
    kick();
    expect_done(&f, (uint64_t[]){ 1 }, (uint8_t[]){ 5 }, 1);
    CHECK_EQ(next_used(NULL), -1);
    dev_lock();
    virtio_gpu_fence_poll(gpu);
    dev_unlock();
    CHECK_EQ(next_used(NULL), -1);
    /* Held again, then freed with the device. */
    CHECK_EQ(hold(1, 0), OK);
    post_fenced_nop(1, 0, 2);
    kick();
    CHECK_EQ(next_used(NULL), -1);
    teardown();
    CHECK_EQ(open_fds(), fds_start);
}

/* ---- cross-domain through the device ---- */

#define CD_CTX         1u
#define CD_QUERY       20u
#define CD_CHANNEL     21u
#define CD_QUERY_GPA   BACK_GPA
#define CD_CHANNEL_GPA (BACK_GPA + PAGE)

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

/* Run the main loop (its fd callbacks, gpu_cd_events among them) for
 * about ms milliseconds, as swede's main thread does. */
static void run_loop_for(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    CHECK(t != NULL);
    loop_timer_arm(t, loop_now_ns() + ms * 1000000ull);
    loop_run();
    loop_timer_free(t);
}

/* Post (not kick) a SUBMIT_3D of one cross-domain command of size
 * bytes, with header h. */
static uint16_t post_cd(struct virtio_gpu_ctrl_hdr h, const void *c,
                        uint32_t size)
{
    uint8_t buf[REQ_SLOT];
    struct virtio_gpu_cmd_submit s = { .hdr = h, .size = htole32(size) };
    s.hdr.type = htole32(VIRTIO_GPU_CMD_SUBMIT_3D);
    CHECK(sizeof(s) + size <= sizeof(buf));
    memcpy(buf, &s, sizeof(s));
    memcpy(buf + sizeof(s), c, size);
    return post(buf, (uint32_t)(sizeof(s) + size),
                sizeof(struct virtio_gpu_ctrl_hdr));
}

/* What Linux's virtqueue_enable_cb() does with VIRTIO_RING_F_EVENT_IDX
 * (the device offers it) once the driver has taken every completion:
 * used_event = the last used index seen, asking for an interrupt on the
 * next completion. */
static void enable_cb(void)
{
    uint16_t ev = htole16(ctrlq.last_used);
    CHECK_EQ(mem_write(&mem, ctrlq.avail + 4 + 2ull * ctrlq.num, &ev, 2), 0);
}

static uint32_t isr(void)
{
    dev_lock();
    uint32_t v = d->isr;
    dev_unlock();
    return v;
}

/* A Wayland guest's first steps with a cross-domain context (as
 * sommelier or wayland-proxy-virtwl through the Linux driver): the
 * compositor's message answers the guest's POLL from the main loop, and
 * the guest is interrupted for it. Regression: gpu_cd_events() pushed
 * the POLL's answer but raised no interrupt, so an idle guest saw it
 * only at its next unrelated one. */
TEST(cross_domain_poll)
{
    unsigned fds_start = open_fds();
    char dir[] = "/tmp/swede-gpu-cd-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof(path), "%s/wayland-0", dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    CHECK(strlen(path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(lfd >= 0);
    CHECK_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ(listen(lfd, 4), 0);

    struct virtio_gpu_conf conf = default_conf();
    conf.capset_mask = 1ull << VIRTIO_GPU_CAPSET_CROSS_DOMAIN;
    conf.wayland_socket_path = path;
    setup_conf(&conf);

    /* The context and its two rings: GUEST blobs, a page each, attached
     * (the driver attaches a context's objects when they are made). */
    CHECK_EQ(ctx_create(CD_CTX, VIRTIO_GPU_CAPSET_CROSS_DOMAIN, "wl"), OK);
    static const uint8_t zero[2 * PAGE];
    CHECK_EQ(mem_write(&mem, CD_QUERY_GPA, zero, sizeof(zero)), 0);
    struct entry q = { CD_QUERY_GPA, PAGE }, ch = { CD_CHANNEL_GPA, PAGE };
    CHECK_EQ(create_blob(CD_CTX, CD_QUERY, VIRTIO_GPU_BLOB_MEM_GUEST, MAPPABLE,
                         PAGE, &q, 1),
             OK);
    CHECK_EQ(create_blob(CD_CTX, CD_CHANNEL, VIRTIO_GPU_BLOB_MEM_GUEST,
                         MAPPABLE, PAGE, &ch, 1),
             OK);
    CHECK_EQ(attach_ctx(CD_CTX, CD_QUERY), OK);
    CHECK_EQ(attach_ctx(CD_CTX, CD_CHANNEL), OK);

    /* INIT on the Wayland channel: the device connects to the
     * compositor. */
    struct cross_domain_init in = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_INIT,
                 .cmd_size = htole16(sizeof(in)) },
        .query_ring_id = htole32(CD_QUERY),
        .channel_ring_id = htole32(CD_CHANNEL),
        .channel_type = htole32(CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND),
    };
    uint16_t hi = post_cd(hdr(0, CD_CTX), &in, sizeof(in));
    kick();
    CHECK_EQ(next_used(NULL), hi);
    CHECK_EQ(le32toh(resp_hdr(hi).type), OK);
    CHECK_EQ(next_used(NULL), -1);
    int comp = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    CHECK(comp >= 0);

    /* POLL fenced on ring 1: answered only when a host event comes. */
    struct cross_domain_poll pl = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_POLL,
                 .cmd_size = htole16(sizeof(pl)) },
    };
    uint16_t hp = post_cd(fenced(0, CD_CTX, CROSS_DOMAIN_CHANNEL_RING, 42), &pl,
                          sizeof(pl));
    kick();
    CHECK_EQ(next_used(NULL), -1);
    /* The guest has taken its interrupts, asks for the next one and goes
     * idle. Nothing from the compositor: the loop leaves the POLL
     * waiting. */
    CHECK(d->driver_features & (1ull << VIRTIO_RING_F_EVENT_IDX));
    enable_cb();
    dev_lock();
    d->isr = 0;
    dev_unlock();
    run_loop_for(20);
    CHECK_EQ(next_used(NULL), -1);
    CHECK_EQ(isr(), 0);

    /* The compositor speaks; only the main loop is running. */
    static const char msg[] = "wl-hello";
    CHECK_EQ(send(comp, msg, sizeof(msg), MSG_NOSIGNAL), (ssize_t)sizeof(msg));
    run_loop_for(50);
    expect_done(&hp, (uint64_t[]){ 42 },
                (uint8_t[]){ CROSS_DOMAIN_CHANNEL_RING }, 1);
    CHECK_EQ(le32toh(resp_hdr(hp).ctx_id), CD_CTX);
    CHECK_EQ(next_used(NULL), -1);
    /* The interrupt that tells the guest. */
    CHECK(isr() & VIRTIO_MMIO_INT_VRING);
    /* The message, as a RECEIVE at the start of the channel ring. */
    struct cross_domain_send_receive r;
    CHECK_EQ(mem_read(&mem, CD_CHANNEL_GPA, &r, sizeof(r)), 0);
    CHECK_EQ(r.hdr.cmd, CROSS_DOMAIN_CMD_RECEIVE);
    CHECK_EQ(le16toh(r.hdr.cmd_size), sizeof(r) + sizeof(msg));
    CHECK_EQ(le32toh(r.num_identifiers), 0);
    CHECK_EQ(le32toh(r.opaque_data_size), sizeof(msg));
    char got[sizeof(msg)] = { 0 };
    CHECK_EQ(mem_read(&mem, CD_CHANNEL_GPA + sizeof(r), got, sizeof(got)), 0);
    CHECK(memcmp(got, msg, sizeof(msg)) == 0);

    teardown();
    close(comp);
    close(lfd);
    unlink(path);
    CHECK_EQ(rmdir(dir), 0);
    CHECK_EQ(open_fds(), fds_start);
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
    CHECK(g != NULL);
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
    /* cross-domain=on devices watch the component's event fd on the main
     * loop, so the loop must exist. */
    struct error lerr = { 0 };
    if (loop_init(&lerr) < 0) {
        printf("loop_init: %s\n", lerr.msg);
        return 1;
    }
    RUN(features_and_config);
    RUN(model_and_shm);
    RUN(capsets);
    RUN(contexts);
    RUN(host3d_blob_mapping);
    RUN(blob_errors);
    RUN(scanout_blob);
    RUN(uuid);
    RUN(fences);
    RUN(fence_errors);
    RUN(reset_with_held_fences);
    RUN(cross_domain_poll);
    RUN(conformance);
    HARNESS_END();
}
