// SPDX-License-Identifier: MIT
/*
 * virtgpu-ctx: exercise the virtio-gpu context-type uAPI (raw ioctls, no
 * libdrm) against a cross-domain (capset 5) device with a Wayland channel,
 * as a guest Wayland proxy (sommelier) would (docs/gpu.md, reference
 * virtio-gpu.md sections 4 and 6):
 *
 *   getparam      3D_FEATURES, CAPSET_QUERY_FIX, RESOURCE_BLOB, HOST_VISIBLE,
 *                 CROSS_DEVICE, CONTEXT_INIT all 1; SUPPORTED_CAPSET_IDs has
 *                 bit 5
 *   get_caps      capset 5: version 1, supported_channels = 1 << WAYLAND
 *   context_init  CAPSET_ID 5, NUM_RINGS 2, POLL_RINGS_MASK 1 << 1
 *   rings         two GUEST|MAPPABLE one-page blobs (query, channel), mmapped
 *   cd_init       cross-domain INIT (WAYLAND channel) and a 1x1 R8
 *                 GET_IMAGE_REQUIREMENTS in one EXECBUFFER, out-fence
 *                 signalled, the answer in the query ring (the host stops
 *                 at the first failed command, and the kernel reports no
 *                 host errors, so the answer is how INIT is seen to work)
 *   image_reqs    GET_IMAGE_REQUIREMENTS 10x10 XR24 on ring 0 with the query
 *                 bo; the reply read from the query ring
 *   wait          DRM_IOCTL_VIRTGPU_WAIT on the query bo (then NOWAIT idle)
 *   host3d_blob   RESOURCE_CREATE_BLOB HOST3D|MAPPABLE with that blob id,
 *                 MAP + mmap, pattern written and read back
 *   guest_blob    RESOURCE_CREATE_BLOB GUEST|MAPPABLE, mmap, write, read
 *   fence_ring0   EXECBUFFER RING_IDX 0 + FENCE_FD_OUT, fence fd polled
 *   fence_ring1   EXECBUFFER RING_IDX 1 (POLL) + FENCE_FD_OUT: signalled
 *                 once the compositor's message arrives; the DRM event
 *                 0x90000000 is read and the RECEIVE in the channel ring
 *                 carries the message (the compositor must send HELLO
 *                 below on connect)
 *   send          SEND of PING (fenced); the compositor must echo it, and
 *                 a second ring-1 POLL must RECEIVE exactly PING
 *
 * Each prints "virtgpu-ctx: ok NAME DETAILS" or "virtgpu-ctx: FAIL NAME:
 * WHY"; a point whose prerequisite failed prints FAIL too.  Then
 * "virtgpu-ctx: done"; the exit status is 0 only if every point passed.
 */

#define _GNU_SOURCE
#include <drm/drm.h>
#include <drm/virtgpu_drm.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CAPSET_CROSS_DOMAIN           5
#define CD_CMD_INIT                   1
#define CD_CMD_GET_IMAGE_REQUIREMENTS 2
#define CD_CMD_POLL                   3
#define CD_CMD_SEND                   4
#define CD_CMD_RECEIVE                5
#define CD_CHANNEL_WAYLAND            1
#define CD_MAX_IDENTIFIERS            28
#define QUERY_RING                    0
#define CHANNEL_RING                  1
#define PAGE                          4096u
#define FOURCC_XR24                   0x34325258u
#define FOURCC_R8                     0x20203852u
#define GBM_SCANOUT                   (1u << 0)
#define GBM_LINEAR                    (1u << 4)
#define FENCE_TIMEOUT_MS              20000

#define HELLO "virtgpu-ctx-hello"
#define PING  "virtgpu-ctx-ping"

/* The cross-domain wire structs (crosvm's cross_domain_protocol.rs; no
 * uapi header carries them). */
struct cd_header {
    uint8_t cmd;
    uint8_t ring_idx;
    uint16_t cmd_size;
    uint32_t pad;
};

struct cd_caps {
    uint32_t version;
    uint32_t supported_channels;
    uint32_t supports_dmabuf;
    uint32_t supports_external_gpu_memory;
};

struct cd_init {
    struct cd_header hdr;
    uint32_t query_ring_id;
    uint32_t channel_ring_id;
    uint32_t channel_type;
};

struct cd_get_reqs {
    struct cd_header hdr;
    uint32_t width, height, drm_format, flags;
};

struct cd_poll {
    struct cd_header hdr;
    uint64_t pad;
};

struct cd_reqs {
    uint32_t strides[4];
    uint32_t offsets[4];
    uint64_t modifier;
    uint64_t size;
    uint32_t blob_id;
    uint32_t map_info;
    int32_t memory_idx;
    int32_t physical_device_idx;
};

struct cd_send_receive {
    struct cd_header hdr;
    uint32_t num_identifiers;
    uint32_t opaque_data_size;
    uint32_t identifiers[CD_MAX_IDENTIFIERS];
    uint32_t identifier_types[CD_MAX_IDENTIFIERS];
    uint32_t identifier_sizes[CD_MAX_IDENTIFIERS];
};

_Static_assert(sizeof(struct cd_init) == 20, "wire size");
_Static_assert(sizeof(struct cd_get_reqs) == 24, "wire size");
_Static_assert(sizeof(struct cd_poll) == 16, "wire size");
_Static_assert(sizeof(struct cd_reqs) == 64, "wire size");
_Static_assert(sizeof(struct cd_send_receive) == 352, "wire size");

struct bo {
    uint32_t handle, res;
    uint64_t size;
    uint8_t *map;
};

static int drm_fd = -1;
static int failures;

static void ok(const char *name, const char *fmt, ...)
{
    va_list ap;

    printf("virtgpu-ctx: ok %s ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static bool fail(const char *name, const char *fmt, ...)
{
    va_list ap;

    failures++;
    printf("virtgpu-ctx: FAIL %s: ", name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    return false;
}

static int xioctl(unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(drm_fd, req, arg);
    } while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r;
}

static int open_device(void)
{
    static const char *paths[] = { "/dev/dri/renderD128", "/dev/dri/card0" };
    for (unsigned i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        int fd = open(paths[i], O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        char name[32] = "";
        struct drm_version v = { .name_len = sizeof(name) - 1, .name = name };
        if (ioctl(fd, DRM_IOCTL_VERSION, &v) == 0 &&
            strcmp(name, "virtio_gpu") == 0) {
            printf("virtgpu-ctx: device %s\n", paths[i]);
            return fd;
        }
        close(fd);
    }
    return -1;
}

static bool getparam(uint64_t param, uint32_t *out)
{
    uint64_t value = 0;
    struct drm_virtgpu_getparam gp = { .param = param,
                                       .value = (uintptr_t)&value };
    if (xioctl(DRM_IOCTL_VIRTGPU_GETPARAM, &gp) < 0) {
        return false;
    }
    *out = (uint32_t)value; /* the kernel writes an int */
    return true;
}

static bool check_getparam(void)
{
    static const struct {
        uint64_t id;
        const char *name;
    } params[] = {
        { VIRTGPU_PARAM_3D_FEATURES, "3d_features" },
        { VIRTGPU_PARAM_CAPSET_QUERY_FIX, "capset_query_fix" },
        { VIRTGPU_PARAM_RESOURCE_BLOB, "resource_blob" },
        { VIRTGPU_PARAM_HOST_VISIBLE, "host_visible" },
        { VIRTGPU_PARAM_CROSS_DEVICE, "cross_device" },
        { VIRTGPU_PARAM_CONTEXT_INIT, "context_init" },
    };
    char details[256] = "";
    size_t n = 0;
    for (unsigned i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        uint32_t v;
        if (!getparam(params[i].id, &v)) {
            return fail("getparam", "%s: %s", params[i].name, strerror(errno));
        }
        if (v != 1) {
            return fail("getparam", "%s=%u, want 1", params[i].name, v);
        }
        n += (size_t)snprintf(details + n, sizeof(details) - n, "%s=%u ",
                              params[i].name, v);
    }
    uint32_t mask;
    if (!getparam(VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs, &mask)) {
        return fail("getparam", "capset_ids: %s", strerror(errno));
    }
    if (!(mask & (1u << CAPSET_CROSS_DOMAIN))) {
        return fail("getparam", "capset_ids=0x%x has no bit 5", mask);
    }
    ok("getparam", "%scapset_ids=0x%x", details, mask);
    return true;
}

static bool check_get_caps(void)
{
    struct cd_caps caps;
    memset(&caps, 0xa5, sizeof(caps));
    struct drm_virtgpu_get_caps gc = { .cap_set_id = CAPSET_CROSS_DOMAIN,
                                       .cap_set_ver = 0,
                                       .addr = (uintptr_t)&caps,
                                       .size = sizeof(caps) };
    if (xioctl(DRM_IOCTL_VIRTGPU_GET_CAPS, &gc) < 0) {
        return fail("get_caps", "GET_CAPS(5): %s", strerror(errno));
    }
    if (caps.version != 1) {
        return fail("get_caps", "version %u, want 1", caps.version);
    }
    if (caps.supported_channels != (1u << CD_CHANNEL_WAYLAND)) {
        return fail("get_caps", "supported_channels 0x%x, want 0x2",
                    caps.supported_channels);
    }
    if (caps.supports_dmabuf > 1 || caps.supports_external_gpu_memory > 1) {
        return fail("get_caps", "bad flags dmabuf=%u external=%u",
                    caps.supports_dmabuf, caps.supports_external_gpu_memory);
    }
    ok("get_caps", "version=%u channels=0x%x dmabuf=%u external=%u",
       caps.version, caps.supported_channels, caps.supports_dmabuf,
       caps.supports_external_gpu_memory);
    return true;
}

static bool check_context_init(void)
{
    struct drm_virtgpu_context_set_param p[3] = {
        { VIRTGPU_CONTEXT_PARAM_CAPSET_ID, CAPSET_CROSS_DOMAIN },
        { VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 },
        { VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 1u << CHANNEL_RING },
    };
    struct drm_virtgpu_context_init ci = { .num_params = 3,
                                           .ctx_set_params = (uintptr_t)p };
    if (xioctl(DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci) < 0) {
        return fail("context_init", "%s", strerror(errno));
    }
    /* A second init on the same file must be refused. */
    if (xioctl(DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci) == 0 || errno != EEXIST) {
        return fail("context_init", "second CONTEXT_INIT: %s, want EEXIST",
                    strerror(errno));
    }
    ok("context_init", "capset=5 num_rings=2 poll_rings_mask=0x2");
    return true;
}

static bool create_blob(struct bo *b, uint32_t mem, uint32_t flags,
                        uint64_t size, uint64_t blob_id, const char **why)
{
    memset(b, 0, sizeof(*b));
    struct drm_virtgpu_resource_create_blob cb = {
        .blob_mem = mem, .blob_flags = flags, .size = size, .blob_id = blob_id
    };
    if (xioctl(DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &cb) < 0) {
        *why = "RESOURCE_CREATE_BLOB";
        return false;
    }
    b->handle = cb.bo_handle;
    b->res = cb.res_handle;
    b->size = size;
    struct drm_virtgpu_map m = { .handle = b->handle };
    if (xioctl(DRM_IOCTL_VIRTGPU_MAP, &m) < 0) {
        *why = "MAP";
        return false;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, drm_fd,
                   (off_t)m.offset);
    if (p == MAP_FAILED) {
        *why = "mmap";
        return false;
    }
    b->map = p;
    return true;
}

/* Write a pattern seeded by seed over the whole mapping, read it back. */
static bool pattern_rw(const struct bo *b, uint32_t seed, size_t *bad)
{
    volatile uint32_t *w = (volatile uint32_t *)b->map;
    size_t n = b->size / 4;
    for (size_t i = 0; i < n; i++) {
        w[i] = seed ^ (uint32_t)(i * 2654435761u);
    }
    for (size_t i = 0; i < n; i++) {
        if (w[i] != (seed ^ (uint32_t)(i * 2654435761u))) {
            *bad = i * 4;
            return false;
        }
    }
    return true;
}

/* EXECBUFFER; *fence_fd gets the out-fence when fence_fd is not NULL. */
static int execbuf(const void *cmd, uint32_t size, int ring, uint32_t *bos,
                   uint32_t n_bos, int *fence_fd)
{
    struct drm_virtgpu_execbuffer eb = { .size = size,
                                         .command = (uintptr_t)cmd,
                                         .bo_handles = (uintptr_t)bos,
                                         .num_bo_handles = n_bos,
                                         .fence_fd = -1 };
    if (ring >= 0) {
        eb.flags |= VIRTGPU_EXECBUF_RING_IDX;
        eb.ring_idx = (uint32_t)ring;
    }
    if (fence_fd) {
        eb.flags |= VIRTGPU_EXECBUF_FENCE_FD_OUT;
    }
    if (xioctl(DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb) < 0) {
        return -1;
    }
    if (fence_fd) {
        *fence_fd = eb.fence_fd;
    }
    return 0;
}

/* Poll a fence fd until signalled: 0 signalled, -1 error, -2 timeout. */
static int fence_wait(int fd, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int r;
    do {
        r = poll(&pfd, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        return -1;
    }
    if (r == 0) {
        return -2;
    }
    return (pfd.revents & POLLIN) ? 0 : -1;
}

static const char *fence_err(int r)
{
    return r == -2 ? "timed out" : strerror(errno);
}

static void cd_hdr(struct cd_header *h, uint8_t cmd, uint16_t size)
{
    memset(h, 0, sizeof(*h));
    h->cmd = cmd;
    h->cmd_size = size;
}

/*
 * POLL on ring 1 with an out-fence; the fence fd must signal (the host
 * signals once a compositor message is in the channel ring), a
 * VIRTGPU_EVENT_FENCE_SIGNALED event must be readable on the DRM fd (ring
 * 1 is in POLL_RINGS_MASK) and the channel ring must hold a RECEIVE of
 * exactly want.  *event gets the event type.
 */
static bool poll_channel(const char *name, const struct bo *channel,
                         const char *want, uint32_t *event)
{
    struct cd_poll p;
    int fd, r;

    memset(&p, 0, sizeof(p));
    cd_hdr(&p.hdr, CD_CMD_POLL, sizeof(p));
    memset(channel->map, 0, sizeof(struct cd_send_receive) + 64);
    if (execbuf(&p, sizeof(p), CHANNEL_RING, NULL, 0, &fd) < 0) {
        return fail(name, "EXECBUFFER: %s", strerror(errno));
    }
    if (fd < 0) {
        return fail(name, "no fence fd");
    }
    r = fence_wait(fd, FENCE_TIMEOUT_MS);
    close(fd);
    if (r < 0) {
        return fail(name, "fence: %s", fence_err(r));
    }
    struct drm_event ev = { 0 };
    if ((r = fence_wait(drm_fd, FENCE_TIMEOUT_MS)) < 0) {
        return fail(name, "no DRM event: %s", fence_err(r));
    }
    if (read(drm_fd, &ev, sizeof(ev)) != sizeof(ev) ||
        ev.type != VIRTGPU_EVENT_FENCE_SIGNALED || ev.length != sizeof(ev)) {
        return fail(name, "bad DRM event type 0x%x length %u", ev.type,
                    ev.length);
    }
    struct cd_send_receive rc;
    memcpy(&rc, channel->map, sizeof(rc));
    const char *data = (const char *)channel->map + sizeof(rc);
    if (rc.hdr.cmd != CD_CMD_RECEIVE || rc.num_identifiers != 0 ||
        rc.opaque_data_size != strlen(want) ||
        memcmp(data, want, strlen(want)) != 0) {
        return fail(name, "channel ring: cmd=%u ids=%u size=%u data=%.20s",
                    rc.hdr.cmd, rc.num_identifiers, rc.opaque_data_size, data);
    }
    *event = ev.type;
    return true;
}

int main(void)
{
    struct bo query = { 0 }, channel = { 0 }, host = { 0 }, guest = { 0 };
    const char *why = "";
    bool have_ctx = false, have_rings = false, have_init = false;
    bool have_reqs = false;
    struct cd_reqs reqs;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    drm_fd = open_device();
    if (drm_fd < 0) {
        fail("open", "no virtio_gpu DRM device");
        printf("virtgpu-ctx: done\n");
        return 1;
    }

    check_getparam();
    check_get_caps();
    have_ctx = check_context_init();

    /* The two rings: one GUEST page each, mapped. */
    if (!have_ctx) {
        fail("rings", "no context");
    } else if (!create_blob(&query, VIRTGPU_BLOB_MEM_GUEST,
                            VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why) ||
               !create_blob(&channel, VIRTGPU_BLOB_MEM_GUEST,
                            VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why)) {
        fail("rings", "%s: %s", why, strerror(errno));
    } else {
        memset(query.map, 0, PAGE);
        memset(channel.map, 0, PAGE);
        have_rings = true;
        ok("rings", "query=res%u channel=res%u size=%u", query.res, channel.res,
           PAGE);
    }

    /* INIT, fenced (global timeline: no RING_IDX). */
    if (!have_rings) {
        fail("cd_init", "no rings");
    } else {
        /* INIT and a query in one buffer: the host steps through it by
         * cmd_size and stops at the first error, so an answer in the
         * query ring shows that INIT succeeded (the kernel reports no
         * host errors to us). */
        struct {
            struct cd_init in;
            struct cd_get_reqs q;
        } b;
        memset(&b, 0, sizeof(b));
        cd_hdr(&b.in.hdr, CD_CMD_INIT, sizeof(b.in));
        b.in.query_ring_id = query.res;
        b.in.channel_ring_id = channel.res;
        b.in.channel_type = CD_CHANNEL_WAYLAND;
        cd_hdr(&b.q.hdr, CD_CMD_GET_IMAGE_REQUIREMENTS, sizeof(b.q));
        b.q.width = 1;
        b.q.height = 1;
        b.q.drm_format = FOURCC_R8;
        _Static_assert(sizeof(b) == 44, "two commands, no padding");
        struct cd_reqs r1;
        int r;
        if (execbuf(&b, sizeof(b), -1, NULL, 0, &fd) < 0) {
            fail("cd_init", "EXECBUFFER: %s", strerror(errno));
        } else if ((r = fence_wait(fd, FENCE_TIMEOUT_MS)) < 0) {
            fail("cd_init", "fence: %s", fence_err(r));
            close(fd);
        } else {
            close(fd);
            memcpy(&r1, query.map, sizeof(r1));
            if (r1.strides[0] != 1 || r1.size != PAGE) {
                fail("cd_init",
                     "INIT refused: no answer to the query after it "
                     "(stride=%u size=%llu)",
                     r1.strides[0], (unsigned long long)r1.size);
            } else {
                have_init = true;
                ok("cd_init", "query_ring=%u channel_ring=%u channel=wayland",
                   query.res, channel.res);
            }
        }
    }

    /* GET_IMAGE_REQUIREMENTS on ring 0 with the query bo, then WAIT. */
    if (!have_init) {
        fail("image_reqs", "no INIT");
        fail("wait", "no INIT");
    } else {
        struct cd_get_reqs q;
        cd_hdr(&q.hdr, CD_CMD_GET_IMAGE_REQUIREMENTS, sizeof(q));
        q.width = 10;
        q.height = 10;
        q.drm_format = FOURCC_XR24;
        q.flags = GBM_LINEAR | GBM_SCANOUT;
        uint32_t bos[1] = { query.handle };
        memset(query.map, 0, PAGE);
        if (execbuf(&q, sizeof(q), QUERY_RING, bos, 1, NULL) < 0) {
            fail("image_reqs", "EXECBUFFER: %s", strerror(errno));
            fail("wait", "no EXECBUFFER");
        } else {
            struct drm_virtgpu_3d_wait w = { .handle = query.handle };
            struct drm_virtgpu_3d_wait nw = { .handle = query.handle,
                                              .flags = VIRTGPU_WAIT_NOWAIT };
            if (ioctl(drm_fd, DRM_IOCTL_VIRTGPU_WAIT, &w) < 0) {
                fail("wait", "WAIT: %s", strerror(errno));
            } else if (ioctl(drm_fd, DRM_IOCTL_VIRTGPU_WAIT, &nw) < 0) {
                fail("wait", "WAIT NOWAIT after WAIT: %s", strerror(errno));
            } else {
                ok("wait", "bo=%u idle", query.handle);
            }
            memcpy(&reqs, query.map, sizeof(reqs));
            if (reqs.size == 0) {
                fail("image_reqs", "no reply in the query ring");
            } else if (reqs.strides[0] != 40 || reqs.offsets[0] != 0 ||
                       reqs.size != PAGE || reqs.modifier != 0 ||
                       reqs.blob_id < 4 || (reqs.blob_id & 1) ||
                       reqs.map_info != 1 || reqs.memory_idx != -1) {
                fail("image_reqs",
                     "stride=%u offset=%u size=%llu modifier=%llu "
                     "blob_id=%u map_info=%u memory_idx=%d",
                     reqs.strides[0], reqs.offsets[0],
                     (unsigned long long)reqs.size,
                     (unsigned long long)reqs.modifier, reqs.blob_id,
                     reqs.map_info, reqs.memory_idx);
            } else {
                have_reqs = true;
                ok("image_reqs",
                   "10x10 XR24 stride=%u size=%llu blob_id=%u map_info=%u",
                   reqs.strides[0], (unsigned long long)reqs.size, reqs.blob_id,
                   reqs.map_info);
            }
        }
    }

    /* A HOST3D blob from the answer, mapped through the host region. */
    if (!have_reqs) {
        fail("host3d_blob", "no image requirements");
    } else if (!create_blob(&host, VIRTGPU_BLOB_MEM_HOST3D,
                            VIRTGPU_BLOB_FLAG_USE_MAPPABLE, reqs.size,
                            reqs.blob_id, &why)) {
        fail("host3d_blob", "%s: %s", why, strerror(errno));
    } else {
        size_t bad = 0;
        struct drm_virtgpu_resource_info ri = { .bo_handle = host.handle };
        if (!pattern_rw(&host, 0x5ede0001u, &bad)) {
            fail("host3d_blob", "pattern differs at offset %zu", bad);
        } else if (xioctl(DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &ri) < 0) {
            fail("host3d_blob", "RESOURCE_INFO: %s", strerror(errno));
        } else if (ri.blob_mem != VIRTGPU_BLOB_MEM_HOST3D ||
                   ri.size != reqs.size) {
            fail("host3d_blob", "RESOURCE_INFO blob_mem=%u size=%u",
                 ri.blob_mem, ri.size);
        } else {
            ok("host3d_blob", "res=%u blob_id=%u size=%llu pattern ok",
               host.res, reqs.blob_id, (unsigned long long)host.size);
        }
    }

    /* A GUEST blob: guest pages, mapped. */
    if (!have_ctx) {
        fail("guest_blob", "no context");
    } else if (!create_blob(&guest, VIRTGPU_BLOB_MEM_GUEST,
                            VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 4 * PAGE, 0,
                            &why)) {
        fail("guest_blob", "%s: %s", why, strerror(errno));
    } else {
        size_t bad = 0;
        if (!pattern_rw(&guest, 0x5ede0002u, &bad)) {
            fail("guest_blob", "pattern differs at offset %zu", bad);
        } else {
            ok("guest_blob", "res=%u size=%llu pattern ok", guest.res,
               (unsigned long long)guest.size);
        }
    }

    /* Ring 0 with an out-fence: the host answers queries at once. */
    if (!have_init) {
        fail("fence_ring0", "no INIT");
    } else {
        struct cd_get_reqs q;
        cd_hdr(&q.hdr, CD_CMD_GET_IMAGE_REQUIREMENTS, sizeof(q));
        q.width = 64;
        q.height = 64;
        q.drm_format = FOURCC_XR24;
        q.flags = GBM_LINEAR;
        memset(query.map, 0, PAGE);
        int r;
        if (execbuf(&q, sizeof(q), QUERY_RING, NULL, 0, &fd) < 0) {
            fail("fence_ring0", "EXECBUFFER: %s", strerror(errno));
        } else if (fd < 0) {
            fail("fence_ring0", "no fence fd");
        } else if ((r = fence_wait(fd, FENCE_TIMEOUT_MS)) < 0) {
            fail("fence_ring0", "fence: %s", fence_err(r));
            close(fd);
        } else {
            close(fd);
            struct cd_reqs r2;
            memcpy(&r2, query.map, sizeof(r2));
            if (r2.strides[0] != 256 || r2.size != 4 * 64 * 64) {
                fail("fence_ring0", "reply stride=%u size=%llu", r2.strides[0],
                     (unsigned long long)r2.size);
            } else {
                ok("fence_ring0", "signalled reply stride=%u size=%llu",
                   r2.strides[0], (unsigned long long)r2.size);
            }
        }
    }

    /* Ring 1: POLL with an out-fence, signalled by the compositor's
     * message; also a DRM event (ring 1 is in POLL_RINGS_MASK). */
    if (!have_init) {
        fail("fence_ring1", "no INIT");
    } else {
        uint32_t event = 0;
        if (poll_channel("fence_ring1", &channel, HELLO, &event)) {
            ok("fence_ring1", "signalled event=0x%x receive=\"%s\"", event,
               HELLO);
        }
    }

    /* SEND a message to the compositor, which echoes it back. */
    if (!have_init) {
        fail("send", "no INIT");
    } else {
        static uint8_t m[sizeof(struct cd_send_receive) + sizeof(PING) - 1];
        struct cd_send_receive s;
        memset(&s, 0, sizeof(s));
        cd_hdr(&s.hdr, CD_CMD_SEND, sizeof(m));
        s.opaque_data_size = sizeof(PING) - 1;
        memcpy(m, &s, sizeof(s));
        memcpy(m + sizeof(s), PING, sizeof(PING) - 1);
        int r;
        if (execbuf(m, sizeof(m), -1, NULL, 0, &fd) < 0) {
            fail("send", "EXECBUFFER: %s", strerror(errno));
        } else if ((r = fence_wait(fd, FENCE_TIMEOUT_MS)) < 0) {
            fail("send", "fence: %s", fence_err(r));
            close(fd);
        } else {
            close(fd);
            uint32_t event = 0;
            if (poll_channel("send", &channel, PING, &event)) {
                ok("send", "\"%s\" %zu bytes, echoed back", PING,
                   sizeof(PING) - 1);
            }
        }
    }

    printf("virtgpu-ctx: done\n");
    fflush(stdout);
    return failures ? 1 : 0;
}
