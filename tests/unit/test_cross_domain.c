/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the cross-domain component (src/gfx/cross_domain.c), no
 * VM: a gfx over fake guest RAM with capset 5 enabled, a context with two
 * GUEST blob rings attached, and a fake compositor (a listening unix
 * socket in a temporary directory whose accepted end the test drives).
 * Covers the capset, INIT, image requirements and the blobs made from
 * them, SEND with a blob fd and a read pipe (the compositor receives the
 * fds by SCM_RIGHTS), RECEIVE of sealed and unsealed memfds and of a
 * write pipe, READ and WRITE on pipes, one ring-1 fence per host event,
 * hang-ups, the caps, fd accounting and malformed commands.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "gfx/component.h"
#include "gfx/cross_domain.h"
#include "gfx/gfx.h"
#include "harness.h"
#include "mem/mem.h"

#define RAM_BASE    0x80000000ull
#define RAM_SIZE    (1ull << 20)
#define QUERY_GPA   RAM_BASE
#define CHANNEL_GPA (RAM_BASE + 0x1000)
#define QUERY_RES   100u
#define CHANNEL_RES 101u
#define CTX         1u

#define OK          VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC    VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM       VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_RESOURCE  VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAMETER VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER

#define FOURCC(a, b, c, d)                                          \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | \
     ((uint32_t)(d) << 24))

static struct mem_map mm;
static char dir[64], sock_path[128];

/* Fences the listener saw. */
static struct {
    uint32_t ctx, ring;
    uint64_t id;
} fences[64];
static unsigned n_fences;

static void on_fence(void *opaque, uint32_t ctx_id, uint32_t ring_idx,
                     uint64_t fence_id)
{
    (void)opaque;
    if (n_fences < 64) {
        fences[n_fences].ctx = ctx_id;
        fences[n_fences].ring = ring_idx;
        fences[n_fences].id = fence_id;
    }
    n_fences++;
}

static const struct gfx_listener listener = { .fence_signalled = on_fence };

/* One test's world. */
struct world {
    struct gfx *g;
    int listen_fd;
    int comp; /* the compositor's end of the channel, -1 before INIT */
};

static bool signalled(uint32_t ring, uint64_t id)
{
    for (unsigned i = 0; i < n_fences && i < 64; i++) {
        if (fences[i].ctx == CTX && fences[i].ring == ring &&
            fences[i].id == id) {
            return true;
        }
    }
    return false;
}

static int listen_at(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 8) < 0) {
        return -1;
    }
    return fd;
}

static uint32_t submit(struct world *w, const void *cmd, uint32_t size)
{
    return gfx_submit_3d(w->g, CTX, cmd, size);
}

static uint32_t make_ring(struct gfx *g, uint32_t id, uint64_t gpa,
                          uint32_t len)
{
    struct gfx_iovec e = { gpa, len };
    uint32_t r = gfx_resource_create_blob(g, 0, id, VIRTIO_GPU_BLOB_MEM_GUEST,
                                          VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 0,
                                          len, &e, 1);
    return r != OK ? r : gfx_ctx_attach_resource(g, CTX, id);
}

static uint32_t send_init(struct world *w, uint32_t query, uint32_t channel,
                          uint32_t type)
{
    struct cross_domain_init in = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_INIT, .cmd_size = htole16(20) },
        .query_ring_id = htole32(query),
        .channel_ring_id = htole32(channel),
        .channel_type = htole32(type),
    };
    return submit(w, &in, sizeof(in));
}

/* A gfx, a context with both rings, and (if init) INIT on Wayland with
 * the compositor's end accepted. */
static void setup(struct world *w, bool init)
{
    memset(w, 0, sizeof(*w));
    w->comp = -1;
    n_fences = 0;
    memset(fences, 0, sizeof(fences));
    w->listen_fd = listen_at(sock_path);
    CHECK(w->listen_fd >= 0);
    struct gfx_config cfg = {
        .mem = &mm,
        .max_hostmem = 64ull << 20,
        .num_scanouts = 1,
        .capset_mask = 1ull << VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
        .host_visible_size = 1ull << 20,
        .wayland_socket_path = sock_path,
    };
    struct error err = { 0 };
    CHECK_EQ(gfx_create(&cfg, &w->g, &err), 0);
    gfx_set_listener(w->g, &listener, NULL);
    CHECK_EQ(gfx_ctx_create(w->g, CTX, VIRTIO_GPU_CAPSET_CROSS_DOMAIN, "t", 1),
             OK);
    memset(mem_ptr(&mm, QUERY_GPA, 0x2000, true), 0, 0x2000);
    CHECK_EQ(make_ring(w->g, QUERY_RES, QUERY_GPA, 4096), OK);
    CHECK_EQ(make_ring(w->g, CHANNEL_RES, CHANNEL_GPA, 4096), OK);
    if (init) {
        CHECK_EQ(send_init(w, QUERY_RES, CHANNEL_RES,
                           CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND),
                 OK);
        w->comp = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        CHECK(w->comp >= 0);
    }
}

static void teardown(struct world *w)
{
    gfx_destroy(w->g);
    if (w->comp >= 0) {
        close(w->comp);
    }
    close(w->listen_fd);
    unlink(sock_path);
}

static const uint8_t *ring(uint64_t gpa)
{
    return mem_ptr(&mm, gpa, 4096, false);
}

/* Is the component's event fd readable now? */
static bool event_ready(struct world *w)
{
    int fd = gfx_cross_domain_event_fd(w->g);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return fd >= 0 && poll(&p, 1, 0) == 1;
}

/* Wait (briefly) for an event, then dispatch. */
static void dispatch(struct world *w)
{
    int fd = gfx_cross_domain_event_fd(w->g);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    poll(&p, 1, 200);
    gfx_cross_domain_dispatch(w->g);
}

static int comp_send(int sock, const void *data, size_t len, const int *fds,
                     unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(32 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { (void *)data, len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.buf;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    return (int)sendmsg(sock, &msg, 0);
}

static int comp_recv(int sock, void *data, size_t len, int *fds, unsigned *nfds)
{
    union {
        char buf[CMSG_SPACE(32 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { data, len };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    struct pollfd p = { .fd = sock, .events = POLLIN };
    poll(&p, 1, 1000);
    int n = (int)recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    *nfds = 0;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); n >= 0 && cm;
         cm = CMSG_NXTHDR(&msg, cm)) {
        unsigned k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds + *nfds, CMSG_DATA(cm), k * sizeof(int));
        *nfds += k;
    }
    return n;
}

/* A SEND with identifiers (ids[i], types[i]) and data. */
static uint32_t send_msg(struct world *w, const uint32_t *ids,
                         const uint32_t *types, uint32_t nids, const void *data,
                         uint32_t len)
{
    static uint8_t buf[8192];
    struct cross_domain_send_receive s;
    memset(&s, 0, sizeof(s));
    s.hdr.cmd = CROSS_DOMAIN_CMD_SEND;
    s.hdr.cmd_size = htole16((uint16_t)(sizeof(s) + len));
    s.num_identifiers = htole32(nids);
    s.opaque_data_size = htole32(len);
    for (uint32_t i = 0; i < nids && i < CROSS_DOMAIN_MAX_IDENTIFIERS; i++) {
        s.identifiers[i] = htole32(ids[i]);
        s.identifier_types[i] = htole32(types[i]);
    }
    memcpy(buf, &s, sizeof(s));
    memcpy(buf + sizeof(s), data, len);
    return submit(w, buf, (uint32_t)(sizeof(s) + len));
}

static uint32_t write_msg(struct world *w, uint32_t id, bool hang_up,
                          const void *data, uint32_t len)
{
    uint8_t buf[256];
    struct cross_domain_read_write h = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_WRITE,
                 .cmd_size = htole16((uint16_t)(sizeof(h) + len)) },
        .identifier = htole32(id),
        .hang_up = htole32(hang_up),
        .opaque_data_size = htole32(len),
    };
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), data, len);
    return submit(w, buf, (uint32_t)(sizeof(h) + len));
}

static uint32_t get_reqs(struct world *w, uint32_t width, uint32_t height,
                         uint32_t fourcc,
                         struct cross_domain_image_requirements *out)
{
    struct cross_domain_get_image_requirements q = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_GET_IMAGE_REQUIREMENTS,
                 .cmd_size = htole16(24) },
        .width = htole32(width),
        .height = htole32(height),
        .drm_format = htole32(fourcc),
        .flags = htole32(0x11),
    };
    uint32_t r = submit(w, &q, sizeof(q));
    memcpy(out, ring(QUERY_GPA), sizeof(*out));
    return r;
}

static uint32_t host_blob(struct world *w, uint32_t res_id, uint64_t blob_id,
                          uint64_t size)
{
    return gfx_resource_create_blob(
        w->g, CTX, res_id, VIRTIO_GPU_BLOB_MEM_HOST3D,
        VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE | VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
        blob_id, size, NULL, 0);
}

/* A memfd holding text, sealed against shrinking, and if seal against
 * everything. */
static int memfd_with(const char *text, size_t size, bool seal)
{
    int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
        pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
        return -1;
    }
    fcntl(fd, F_ADD_SEALS,
          seal ? F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL
               : F_SEAL_SHRINK);
    return fd;
}

/* ---- tests ---- */

TEST(capset)
{
    struct world w;
    setup(&w, false);
    CHECK_EQ(gfx_num_capsets(w.g), 1);
    uint32_t id = 0, ver = 9, size = 0;
    CHECK_EQ(gfx_get_capset_info(w.g, 0, &id, &ver, &size),
             VIRTIO_GPU_RESP_OK_CAPSET_INFO);
    CHECK_EQ(id, VIRTIO_GPU_CAPSET_CROSS_DOMAIN);
    CHECK_EQ(ver, 0);
    CHECK_EQ(size, 16);
    struct cross_domain_capabilities caps;
    memset(&caps, 0xff, sizeof(caps));
    uint32_t got = 0;
    CHECK_EQ(gfx_get_capset(w.g, VIRTIO_GPU_CAPSET_CROSS_DOMAIN, 0, &caps,
                            sizeof(caps), &got),
             VIRTIO_GPU_RESP_OK_CAPSET);
    CHECK_EQ(got, 16);
    CHECK_EQ(le32toh(caps.version), 1);
    CHECK_EQ(le32toh(caps.supported_channels),
             1u << CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND);
    CHECK_EQ(caps.supports_dmabuf, 0);
    CHECK_EQ(caps.supports_external_gpu_memory, 0);
    teardown(&w);

    /* The default socket follows XDG_RUNTIME_DIR and WAYLAND_DISPLAY. */
    char buf[256];
    setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
    setenv("WAYLAND_DISPLAY", "wayland-3", 1);
    CHECK(strcmp(gfx_cross_domain_default_socket(buf, sizeof(buf)),
                 "/run/user/7/wayland-3") == 0);
    unsetenv("WAYLAND_DISPLAY");
    CHECK(strcmp(gfx_cross_domain_default_socket(buf, sizeof(buf)),
                 "/run/user/7/wayland-0") == 0);
    setenv("WAYLAND_DISPLAY", "/abs/wl", 1);
    CHECK(strcmp(gfx_cross_domain_default_socket(buf, sizeof(buf)),
                 "/abs/wl") == 0);
    unsetenv("WAYLAND_DISPLAY");
    unsetenv("XDG_RUNTIME_DIR");
    CHECK(gfx_cross_domain_default_socket(buf, sizeof(buf)) == NULL);
}

TEST(init)
{
    struct world w;
    setup(&w, false);
    uint64_t logged = log_guest_count();
    /* Rings must be attached resources of this context. */
    CHECK_EQ(send_init(&w, 555, CHANNEL_RES, 1), E_RESOURCE);
    CHECK_EQ(send_init(&w, QUERY_RES, 556, 1), E_RESOURCE);
    CHECK_EQ(send_init(&w, QUERY_RES, CHANNEL_RES, 2), E_PARAMETER);
    /* Truncated INIT. */
    struct cross_domain_init in = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_INIT, .cmd_size = htole16(16) },
    };
    CHECK_EQ(submit(&w, &in, 16), E_PARAMETER);
    /* Commands before INIT. */
    struct cross_domain_image_requirements r;
    CHECK_EQ(get_reqs(&w, 8, 8, FOURCC('X', 'R', '2', '4'), &r), E_PARAMETER);
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, "x", 1), E_PARAMETER);
    CHECK(log_guest_count() > logged);
    /* No compositor listening. */
    close(w.listen_fd);
    unlink(sock_path);
    CHECK_EQ(send_init(&w, QUERY_RES, CHANNEL_RES, 1), E_UNSPEC);
    w.listen_fd = listen_at(sock_path);
    CHECK_EQ(send_init(&w, QUERY_RES, CHANNEL_RES, 1), OK);
    CHECK_EQ(send_init(&w, QUERY_RES, CHANNEL_RES, 1), E_PARAMETER);
    int comp = accept4(w.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    CHECK(comp >= 0);
    close(comp);
    teardown(&w);

    /* Query-only context (channel type 0): no connection, no SEND. */
    setup(&w, false);
    CHECK_EQ(send_init(&w, QUERY_RES, 0, 0), OK);
    CHECK_EQ(get_reqs(&w, 8, 8, FOURCC('X', 'R', '2', '4'), &r), OK);
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, "x", 1), E_PARAMETER);
    teardown(&w);

    /* A channel ring smaller than one message is refused. */
    setup(&w, false);
    CHECK_EQ(make_ring(w.g, 102, RAM_BASE + 0x4000, 1024), OK);
    CHECK_EQ(send_init(&w, QUERY_RES, 102, 1), E_PARAMETER);
    teardown(&w);
}

TEST(image_requirements)
{
    struct world w;
    setup(&w, true);
    struct cross_domain_image_requirements r;
    CHECK_EQ(get_reqs(&w, 10, 10, FOURCC('X', 'R', '2', '4'), &r), OK);
    CHECK_EQ(le32toh(r.strides[0]), 40);
    CHECK_EQ(le32toh(r.offsets[0]), 0);
    CHECK_EQ(le64toh(r.size), 4096);
    CHECK_EQ(le32toh(r.blob_id), 4);
    CHECK_EQ(le32toh(r.map_info), VIRTIO_GPU_MAP_CACHE_CACHED);
    CHECK_EQ((int32_t)le32toh((uint32_t)r.memory_idx), -1);
    CHECK_EQ(le64toh(r.modifier), 0);

    CHECK_EQ(get_reqs(&w, 1920, 1080, FOURCC('A', 'R', '2', '4'), &r), OK);
    CHECK_EQ(le32toh(r.strides[0]), 7680);
    CHECK_EQ(le64toh(r.size), 1920ull * 1080 * 4); /* already page sized */
    CHECK_EQ(le32toh(r.blob_id), 6);

    CHECK_EQ(get_reqs(&w, 64, 33, FOURCC('N', 'V', '1', '2'), &r), OK);
    CHECK_EQ(le32toh(r.strides[0]), 64);
    CHECK_EQ(le32toh(r.strides[1]), 64);
    CHECK_EQ(le32toh(r.offsets[1]), 64 * 33);
    CHECK_EQ(le64toh(r.size), 4096); /* 2112 + 64 * 17 */

    CHECK_EQ(get_reqs(&w, 16, 16, FOURCC('Y', 'V', '1', '2'), &r), OK);
    CHECK_EQ(le32toh(r.strides[1]), 8);
    CHECK_EQ(le32toh(r.strides[2]), 8);
    CHECK_EQ(le32toh(r.offsets[1]), 256);
    CHECK_EQ(le32toh(r.offsets[2]), 256 + 64);

    CHECK_EQ(get_reqs(&w, 3, 3, FOURCC('B', 'G', '2', '4'), &r), OK);
    CHECK_EQ(le32toh(r.strides[0]), 9);
    CHECK_EQ(get_reqs(&w, 3, 3, FOURCC('A', 'B', '4', 'H'), &r), OK);
    CHECK_EQ(le32toh(r.strides[0]), 24);

    /* The same question, the same answer. */
    CHECK_EQ(get_reqs(&w, 10, 10, FOURCC('X', 'R', '2', '4'), &r), OK);
    CHECK_EQ(le32toh(r.blob_id), 4);

    /* Bad questions. */
    CHECK_EQ(get_reqs(&w, 0, 10, FOURCC('X', 'R', '2', '4'), &r), E_PARAMETER);
    CHECK_EQ(get_reqs(&w, 10, 100000, FOURCC('X', 'R', '2', '4'), &r),
             E_PARAMETER);
    CHECK_EQ(get_reqs(&w, 10, 10, FOURCC('Z', 'Z', 'Z', 'Z'), &r), E_PARAMETER);

    /* Blobs from the answers: exact size only. */
    CHECK_EQ(host_blob(&w, 200, 4, 8192), E_PARAMETER);
    CHECK_EQ(host_blob(&w, 200, 4, 4095), E_PARAMETER);
    CHECK_EQ(host_blob(&w, 200, 44, 4096), E_PARAMETER); /* unknown */
    CHECK_EQ(host_blob(&w, 200, 0, 4096), E_PARAMETER);
    uint64_t mem0 = gfx_hostmem_used(w.g);
    uint32_t fds0 = gfx_fds_used(w.g);
    CHECK_EQ(host_blob(&w, 200, 4, 4096), OK);
    CHECK_EQ(host_blob(&w, 201, 4, 4096), OK); /* answers are reusable */
    CHECK(gfx_hostmem_used(w.g) >= mem0 + 8192);
    CHECK_EQ(gfx_fds_used(w.g), fds0 + 2);
    struct gfx_resource *res = gfx_resource_get(w.g, 200);
    CHECK(res && res->blob_fd >= 0);
    if (res) {
        struct stat st;
        CHECK_EQ(fstat(res->blob_fd, &st), 0);
        CHECK_EQ(st.st_size, 4096);
        CHECK_EQ(res->map_info, VIRTIO_GPU_MAP_CACHE_CACHED);
    }
    /* Mappable into the host-visible region. */
    uint32_t map_info = 0;
    CHECK_EQ(gfx_resource_map_blob(w.g, 200, 0, &map_info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    CHECK_EQ(map_info, VIRTIO_GPU_MAP_CACHE_CACHED);
    CHECK_EQ(gfx_resource_unmap_blob(w.g, 200), OK);
    CHECK_EQ(gfx_resource_unref(w.g, 200), OK);
    CHECK_EQ(gfx_resource_unref(w.g, 201), OK);
    CHECK_EQ(gfx_fds_used(w.g), fds0);
    /* Not HOST3D. */
    CHECK_EQ(gfx_resource_create_blob(
                 w.g, CTX, 202, VIRTIO_GPU_BLOB_MEM_HOST3D_GUEST,
                 VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 4, 4096, NULL, 0),
             E_PARAMETER);
    teardown(&w);
}

/* A 32x32 XR24 host blob as resource id, attached to the context. */
static struct gfx_resource *attached_blob(struct world *w, uint32_t id)
{
    struct cross_domain_image_requirements r;
    CHECK_EQ(get_reqs(w, 32, 32, FOURCC('X', 'R', '2', '4'), &r), OK);
    CHECK_EQ(host_blob(w, id, le32toh(r.blob_id), le64toh(r.size)), OK);
    CHECK_EQ(gfx_ctx_attach_resource(w->g, CTX, id), OK);
    return gfx_resource_get(w->g, id);
}

TEST(send_blob_and_pipe)
{
    struct world w;
    setup(&w, true);
    struct gfx_resource *res = attached_blob(&w, 300);
    CHECK(res != NULL);
    if (!res) {
        teardown(&w);
        return;
    }
    CHECK_EQ(pwrite(res->blob_fd, "pixels!", 7, 100), 7);

    uint32_t ids[2] = { 300, CROSS_DOMAIN_PIPE_READ_START + 1 };
    uint32_t types[2] = { CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB,
                          CROSS_DOMAIN_ID_TYPE_READ_PIPE };
    CHECK_EQ(send_msg(&w, ids, types, 2, "hello", 5), OK);
    char buf[64] = { 0 };
    int fds[32];
    unsigned nfds = 0;
    CHECK_EQ(comp_recv(w.comp, buf, sizeof(buf), fds, &nfds), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(nfds, 2);
    if (nfds == 2) {
        char px[8] = { 0 };
        CHECK_EQ(pread(fds[0], px, 7, 100), 7);
        CHECK(strcmp(px, "pixels!") == 0);
        /* The compositor writes the paste into the pipe's write end. */
        CHECK_EQ(fcntl(fds[1], F_GETFL) & O_ACCMODE, O_WRONLY);
        CHECK_EQ(write(fds[1], "paste", 5), 5);
        close(fds[0]);
        close(fds[1]);
    }
    /* Nothing happens without a fence. */
    CHECK(!event_ready(&w));
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 10), OK);
    CHECK(!signalled(1, 10));
    dispatch(&w);
    CHECK(signalled(1, 10));
    struct cross_domain_read_write rw;
    memcpy(&rw, ring(CHANNEL_GPA), sizeof(rw));
    CHECK_EQ(rw.hdr.cmd, CROSS_DOMAIN_CMD_READ);
    CHECK_EQ(le32toh(rw.identifier), CROSS_DOMAIN_PIPE_READ_START + 1);
    CHECK_EQ(le32toh(rw.opaque_data_size), 5);
    CHECK_EQ(le32toh(rw.hang_up), 0);
    CHECK(memcmp(ring(CHANNEL_GPA) + sizeof(rw), "paste", 5) == 0);
    /* Then the hang-up, on the next fence. */
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 11), OK);
    dispatch(&w);
    CHECK(signalled(1, 11));
    memcpy(&rw, ring(CHANNEL_GPA), sizeof(rw));
    CHECK_EQ(rw.hdr.cmd, CROSS_DOMAIN_CMD_READ);
    CHECK_EQ(le32toh(rw.hang_up), 1);
    CHECK_EQ(le32toh(rw.opaque_data_size), 0);

    /* The next read pipe must be the predicted id. */
    uint32_t bad[1] = { CROSS_DOMAIN_PIPE_READ_START + 5 };
    uint32_t pipe_type[1] = { CROSS_DOMAIN_ID_TYPE_READ_PIPE };
    CHECK_EQ(send_msg(&w, bad, pipe_type, 1, "x", 1), E_PARAMETER);
    uint32_t good[1] = { CROSS_DOMAIN_PIPE_READ_START + 2 };
    CHECK_EQ(send_msg(&w, good, pipe_type, 1, "y", 1), OK);
    CHECK_EQ(comp_recv(w.comp, buf, sizeof(buf), fds, &nfds), 1);
    CHECK_EQ(nfds, 1);
    for (unsigned i = 0; i < nfds; i++) {
        close(fds[i]);
    }
    /* Two read pipes in one SEND. */
    uint32_t two[2] = { CROSS_DOMAIN_PIPE_READ_START + 3,
                        CROSS_DOMAIN_PIPE_READ_START + 4 };
    uint32_t two_types[2] = { CROSS_DOMAIN_ID_TYPE_READ_PIPE,
                              CROSS_DOMAIN_ID_TYPE_READ_PIPE };
    CHECK_EQ(send_msg(&w, two, two_types, 2, "z", 1), E_PARAMETER);
    /* A failed SEND sent nothing. */
    CHECK_EQ(comp_send(w.comp, "", 0, NULL, 0), 0);
    struct pollfd p = { .fd = w.comp, .events = POLLIN };
    CHECK_EQ(poll(&p, 1, 0), 0);
    teardown(&w);
}

TEST(receive_fds)
{
    struct world w;
    setup(&w, true);
    int open_mfd = memfd_with("unsealed", 8192, false);
    int sealed_mfd = memfd_with("keymap", 100, true);
    int bare_mfd = memfd_create("bare", MFD_CLOEXEC);
    CHECK_EQ(ftruncate(bare_mfd, 4096), 0);
    CHECK_EQ(pwrite(bare_mfd, "bare", 4, 0), 4);
    int pfd[2];
    CHECK_EQ(pipe2(pfd, O_CLOEXEC), 0);
    int sent[4] = { open_mfd, sealed_mfd, pfd[1], bare_mfd };
    CHECK_EQ(comp_send(w.comp, "abc", 3, sent, 4), 3);
    close(pfd[1]);
    /* No fence: nothing is read, the event fd stays quiet. */
    gfx_cross_domain_dispatch(w.g);
    CHECK(!event_ready(&w));
    CHECK_EQ(n_fences, 0);
    uint32_t fds0 = gfx_fds_used(w.g);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 20), OK);
    CHECK(event_ready(&w));
    dispatch(&w);
    CHECK(signalled(1, 20));
    CHECK_EQ(n_fences, 1);
    CHECK_EQ(gfx_fds_used(w.g), fds0 + 4);
    struct cross_domain_send_receive rcv;
    memcpy(&rcv, ring(CHANNEL_GPA), sizeof(rcv));
    CHECK_EQ(rcv.hdr.cmd, CROSS_DOMAIN_CMD_RECEIVE);
    CHECK_EQ(le16toh(rcv.hdr.cmd_size), sizeof(rcv) + 3);
    CHECK_EQ(le32toh(rcv.num_identifiers), 4);
    CHECK_EQ(le32toh(rcv.opaque_data_size), 3);
    CHECK(memcmp(ring(CHANNEL_GPA) + sizeof(rcv), "abc", 3) == 0);
    CHECK_EQ(le32toh(rcv.identifier_types[0]),
             CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB);
    CHECK_EQ(le32toh(rcv.identifier_sizes[0]), 8192);
    CHECK_EQ(le32toh(rcv.identifier_types[1]),
             CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB);
    CHECK_EQ(le32toh(rcv.identifier_sizes[1]), 100);
    CHECK_EQ(le32toh(rcv.identifier_types[2]), CROSS_DOMAIN_ID_TYPE_WRITE_PIPE);
    uint32_t id_open = le32toh(rcv.identifiers[0]);
    uint32_t id_sealed = le32toh(rcv.identifiers[1]);
    uint32_t id_pipe = le32toh(rcv.identifiers[2]);
    CHECK_EQ(id_open, 3);
    CHECK_EQ(id_sealed, 5);
    CHECK_EQ(id_pipe, 7);
    CHECK_EQ(le32toh(rcv.identifiers[3]), 9);
    CHECK_EQ(le32toh(rcv.identifier_sizes[3]), 4096);

    /* A writable memfd sealed against shrinking is shared as it is. */
    CHECK_EQ(host_blob(&w, 400, id_open, 8193), E_PARAMETER); /* too big */
    CHECK_EQ(host_blob(&w, 400, id_open, 8192), OK);
    struct gfx_resource *res = gfx_resource_get(w.g, 400);
    CHECK(res && res->blob_fd >= 0);
    if (res) {
        struct stat a, b;
        fstat(res->blob_fd, &a);
        fstat(open_mfd, &b);
        CHECK(a.st_ino == b.st_ino);
        CHECK_EQ(pwrite(open_mfd, "shared", 6, 0), 6);
        char got[7] = { 0 };
        CHECK_EQ(pread(res->blob_fd, got, 6, 0), 6);
        CHECK(strcmp(got, "shared") == 0);
    }
    /* One-shot. */
    CHECK_EQ(host_blob(&w, 401, id_open, 8192), E_PARAMETER);
    /* The sealed one (sealed against writing and shrinking): the same
     * pages mapped copy-on-write, no copy. The guest may ask for the
     * whole last page of the 100 bytes, no more. */
    CHECK_EQ(host_blob(&w, 402, id_sealed, 4097), E_PARAMETER);
    CHECK_EQ(host_blob(&w, 402, id_sealed, 4096), OK);
    res = gfx_resource_get(w.g, 402);
    CHECK(res && res->blob_fd >= 0 && res->blob_private);
    if (res) {
        struct stat a, b;
        fstat(res->blob_fd, &a);
        fstat(sealed_mfd, &b);
        CHECK(a.st_ino == b.st_ino);
        CHECK(res->blob_host && memcmp(res->blob_host, "keymap", 6) == 0);
    }
    uint32_t map_info;
    CHECK_EQ(gfx_resource_map_blob(w.g, 402, 0x10000, &map_info),
             VIRTIO_GPU_RESP_OK_MAP_INFO);
    uint64_t hv_size = 0;
    uint8_t *hv = gfx_host_visible(w.g, &hv_size) + 0x10000;
    CHECK(memcmp(hv, "keymap", 6) == 0);
    CHECK_EQ(hv[100], 0); /* past the end, in the last page */
    /* As guest memory: readable, not writable (the CPU and devices go
     * through mem_ptr), its neighbours writable. */
    struct mem_map hm;
    memset(&hm, 0, sizeof(hm));
    struct error err = { 0 };
    CHECK_EQ(mem_add_block_host(&hm, 1ull << 40, hv_size, hv - 0x10000,
                                gfx_host_visible_ro_pages(w.g), "hv", &err),
             0);
    const uint64_t gpa = (1ull << 40) + 0x10000;
    CHECK(mem_ptr(&hm, gpa, 6, false) == hv);
    CHECK(mem_ptr(&hm, gpa, 6, true) == NULL);
    CHECK(mem_ptr(&hm, gpa + 4095, 1, true) == NULL);
    CHECK(mem_ptr(&hm, gpa - 8, 16, true) == NULL); /* straddles it */
    CHECK(mem_ptr(&hm, gpa - 8, 8, true) != NULL);
    CHECK(mem_ptr(&hm, gpa + 4096, 8, true) != NULL);
    CHECK_EQ(mem_write(&hm, gpa, "GUEST!", 6), -EFAULT);
    /* A write through a host pointer taken before (a CPU TLB entry filled
     * earlier) stays in a private copy of the page. */
    memcpy(hv, "GUEST!", 6);
    char orig[7] = { 0 };
    CHECK_EQ(pread(sealed_mfd, orig, 6, 0), 6);
    CHECK(strcmp(orig, "keymap") == 0);
    CHECK_EQ(gfx_resource_unmap_blob(w.g, 402), OK);
    CHECK(mem_ptr(&hm, gpa, 6, true) != NULL); /* writable again */
    mem_free(&hm);
    /* One that is not sealed at all could be truncated under the
     * mapping: a copy. */
    CHECK_EQ(host_blob(&w, 404, 9, 4096), OK);
    res = gfx_resource_get(w.g, 404);
    if (res) {
        struct stat a, b;
        fstat(res->blob_fd, &a);
        fstat(bare_mfd, &b);
        CHECK(a.st_ino != b.st_ino);
        char got[5] = { 0 };
        CHECK_EQ(pread(res->blob_fd, got, 4, 0), 4);
        CHECK(strcmp(got, "bare") == 0);
    }
    CHECK_EQ(gfx_resource_unref(w.g, 404), OK);
    close(bare_mfd);
    /* A pipe id is no blob. */
    CHECK_EQ(host_blob(&w, 403, id_pipe, 4096), E_PARAMETER);

    /* WRITE to the write pipe, then hang up. */
    CHECK_EQ(write_msg(&w, id_pipe, false, "xyz", 3), OK);
    CHECK_EQ(write_msg(&w, id_pipe, true, "!", 1), OK);
    char got[8] = { 0 };
    CHECK_EQ(read(pfd[0], got, sizeof(got)), 4);
    CHECK(strcmp(got, "xyz!") == 0);
    CHECK_EQ(read(pfd[0], got, sizeof(got)), 0); /* our end was closed */
    CHECK_EQ(write_msg(&w, id_pipe, false, "x", 1), E_PARAMETER);
    close(pfd[0]);
    close(open_mfd);
    close(sealed_mfd);

    /* fds come back when the resources and the context go. */
    CHECK_EQ(gfx_resource_unref(w.g, 400), OK);
    CHECK_EQ(gfx_resource_unref(w.g, 402), OK);
    CHECK_EQ(gfx_fds_used(w.g), fds0);
    CHECK_EQ(gfx_ctx_destroy(w.g, CTX), OK);
    CHECK_EQ(gfx_fds_used(w.g), 0);
    teardown(&w);
}

TEST(one_event_per_fence)
{
    struct world w;
    setup(&w, true);
    int p1[2], p2[2];
    CHECK_EQ(pipe2(p1, O_CLOEXEC), 0);
    CHECK_EQ(pipe2(p2, O_CLOEXEC), 0);
    /* Two messages (fds keep them apart on the stream). */
    CHECK_EQ(comp_send(w.comp, "one", 3, &p1[1], 1), 3);
    CHECK_EQ(comp_send(w.comp, "two", 3, &p2[1], 1), 3);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 30), OK);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 31), OK);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 32), OK);
    dispatch(&w);
    CHECK(signalled(1, 30));
    CHECK(signalled(1, 31));
    CHECK(!signalled(1, 32));
    CHECK_EQ(n_fences, 2);
    CHECK(memcmp(ring(CHANNEL_GPA) + sizeof(struct cross_domain_send_receive),
                 "two", 3) == 0);
    /* Idle: fence 32 waits, the event fd is quiet. */
    CHECK(!event_ready(&w));
    CHECK_EQ(comp_send(w.comp, "three", 5, NULL, 0), 5);
    dispatch(&w);
    CHECK(signalled(1, 32));
    CHECK_EQ(n_fences, 3);
    /* A fence on ring 0 is signalled at once; other rings are refused. */
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_QUERY_RING, 40), OK);
    CHECK(signalled(0, 40));
    CHECK_EQ(gfx_create_fence(w.g, CTX, 2, 41), E_PARAMETER);
    /* At most GFX_CD_MAX_PENDING_FENCES wait. */
    for (uint32_t i = 0; i < GFX_CD_MAX_PENDING_FENCES; i++) {
        CHECK_EQ(gfx_create_fence(w.g, CTX, 1, 50 + i), OK);
    }
    CHECK_EQ(gfx_create_fence(w.g, CTX, 1, 99), E_PARAMETER);
    close(p1[0]);
    close(p2[0]);
    close(p1[1]);
    close(p2[1]);
    teardown(&w);
}

TEST(hang_up)
{
    struct world w;
    setup(&w, true);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 60), OK);
    close(w.comp);
    w.comp = -1;
    memset(mem_ptr(&mm, CHANNEL_GPA, 64, true), 0xa5, 64);
    dispatch(&w);
    /* The fence completes with an empty RECEIVE: the guest learns that
     * the compositor is gone; nothing is left to spin. */
    CHECK(signalled(1, 60));
    struct cross_domain_send_receive rcv;
    memcpy(&rcv, ring(CHANNEL_GPA), sizeof(rcv));
    CHECK_EQ(rcv.hdr.cmd, CROSS_DOMAIN_CMD_RECEIVE);
    CHECK_EQ(le32toh(rcv.num_identifiers), 0);
    CHECK_EQ(le32toh(rcv.opaque_data_size), 0);
    CHECK(!event_ready(&w));
    /* So does every later poll, at once. */
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 61), OK);
    CHECK(signalled(1, 61));
    CHECK(!event_ready(&w));
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, "x", 1), E_PARAMETER);
    teardown(&w);
}

/* A compositor that does not read: SENDs are queued, never waited on,
 * up to GFX_CD_MAX_QUEUED_BYTES; its fds go with the queued bytes; all of
 * it arrives in order once the compositor reads and the main loop
 * dispatches. */
TEST(send_queue)
{
    struct world w;
    setup(&w, true);
    struct gfx_resource *res = attached_blob(&w, 300);
    CHECK(res && pwrite(res->blob_fd, "queued", 6, 0) == 6);
    enum {
        CHUNK = CROSS_DOMAIN_MAX_SEND_RECV_SIZE
    };
    static uint8_t chunk[CHUNK];
    uint32_t fds0 = gfx_fds_used(w.g);
    uint32_t sent = 0, blob_at = 0;
    bool refused = false;
    for (uint32_t i = 0; i < 2 * GFX_CD_MAX_QUEUED_BYTES / CHUNK; i++) {
        memset(chunk, (int)(i & 0xff), CHUNK);
        uint32_t id = 300, type = CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB;
        /* One SEND with the blob, once bytes are queued. */
        bool with_blob = !blob_at && i == 100;
        uint32_t rc = send_msg(&w, &id, &type, with_blob ? 1 : 0, chunk, CHUNK);
        if (rc == E_OOM) {
            refused = true;
            break;
        }
        CHECK_EQ(rc, OK);
        if (with_blob) {
            blob_at = sent + 1;
        }
        sent++;
    }
    CHECK(refused);
    CHECK(blob_at > 0);
    CHECK(sent * (uint64_t)CHUNK > GFX_CD_MAX_QUEUED_BYTES);
    CHECK(gfx_fds_used(w.g) > fds0); /* the queued dup of the blob fd */
    /* The compositor reads; the main loop writes the rest as it can. */
    uint64_t want = (uint64_t)sent * CHUNK, got = 0;
    static uint8_t buf[65536];
    unsigned nfds_total = 0;
    bool in_order = true;
    for (int spins = 0; got < want && spins < 100000; spins++) {
        int fds[32];
        unsigned nfds = 0;
        gfx_cross_domain_dispatch(w.g);
        int n = comp_recv(w.comp, buf, sizeof(buf), fds, &nfds);
        for (unsigned k = 0; k < nfds; k++) {
            char px[7] = { 0 };
            CHECK_EQ(pread(fds[k], px, 6, 0), 6);
            CHECK(strcmp(px, "queued") == 0);
            /* It arrives no later than the first byte of its SEND. */
            CHECK(got < (uint64_t)blob_at * CHUNK);
            close(fds[k]);
        }
        nfds_total += nfds;
        for (int j = 0; j < n; j++, got++) {
            in_order &= buf[j] == (uint8_t)((got / CHUNK) & 0xff);
        }
    }
    CHECK_EQ(got, want);
    CHECK(in_order);
    CHECK_EQ(nfds_total, 1);
    CHECK_EQ(gfx_fds_used(w.g), fds0); /* the dup was closed once sent */
    /* Nothing queued any more: a SEND goes straight through. */
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, "tail", 4), OK);
    int fds[32];
    unsigned nfds = 0;
    CHECK_EQ(comp_recv(w.comp, buf, sizeof(buf), fds, &nfds), 4);
    teardown(&w);
}

/* A paste reader that does not read: WRITEs are queued, not waited on;
 * the hang-up closes the pipe only after the last byte is written. */
TEST(write_queue)
{
    struct world w;
    setup(&w, true);
    int pfd[2];
    CHECK_EQ(pipe2(pfd, O_CLOEXEC), 0);
    CHECK_EQ(comp_send(w.comp, "w", 1, &pfd[1], 1), 1);
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    CHECK_EQ(gfx_create_fence(w.g, CTX, CROSS_DOMAIN_CHANNEL_RING, 80), OK);
    dispatch(&w);
    CHECK(signalled(1, 80));
    struct cross_domain_send_receive rcv;
    memcpy(&rcv, ring(CHANNEL_GPA), sizeof(rcv));
    CHECK_EQ(le32toh(rcv.identifier_types[0]), CROSS_DOMAIN_ID_TYPE_WRITE_PIPE);
    uint32_t id = le32toh(rcv.identifiers[0]);
    /* 64 KiB fill the pipe; 200 x 200 bytes more are queued. */
    static uint8_t data[200];
    uint32_t total = 0;
    for (int i = 0; i < 600; i++) {
        memset(data, (int)(i & 0xff), sizeof(data));
        CHECK_EQ(write_msg(&w, id, i == 599, data, sizeof(data)), OK);
        total += sizeof(data);
    }
    /* After the hang-up, the pipe takes no more WRITEs. */
    CHECK_EQ(write_msg(&w, id, false, "x", 1), E_PARAMETER);
    static uint8_t buf[200 * 600];
    uint32_t got = 0;
    for (int spins = 0; spins < 100000; spins++) {
        gfx_cross_domain_dispatch(w.g);
        ssize_t n = read(pfd[0], buf + got, sizeof(buf) - got);
        if (n == 0) {
            break; /* end of file: all written, then closed */
        }
        if (n > 0) {
            got += (uint32_t)n;
        }
    }
    CHECK_EQ(got, total);
    bool in_order = true;
    for (uint32_t j = 0; j < got; j++) {
        in_order &= buf[j] == (uint8_t)((j / 200) & 0xff);
    }
    CHECK(in_order);
    CHECK_EQ(write_msg(&w, id, false, "x", 1), E_PARAMETER); /* gone */
    close(pfd[0]);
    teardown(&w);
}

TEST(fd_caps)
{
    struct world w;
    setup(&w, true);
    uint32_t fds0 = gfx_fds_used(w.g);
    /* A guest that never consumes what it receives holds at most
     * GFX_CD_MAX_FD_ITEMS fds. */
    for (uint32_t m = 0; m < 6; m++) {
        int fds[CROSS_DOMAIN_MAX_IDENTIFIERS];
        for (int i = 0; i < CROSS_DOMAIN_MAX_IDENTIFIERS; i++) {
            fds[i] = memfd_with("k", 4096, false);
        }
        CHECK_EQ(comp_send(w.comp, "m", 1, fds, CROSS_DOMAIN_MAX_IDENTIFIERS),
                 1);
        for (int i = 0; i < CROSS_DOMAIN_MAX_IDENTIFIERS; i++) {
            close(fds[i]);
        }
        CHECK_EQ(gfx_create_fence(w.g, CTX, 1, 70 + m), OK);
        dispatch(&w);
        CHECK(signalled(1, 70 + m));
    }
    CHECK_EQ(gfx_fds_used(w.g), fds0 + GFX_CD_MAX_FD_ITEMS);
    struct cross_domain_send_receive rcv;
    memcpy(&rcv, ring(CHANNEL_GPA), sizeof(rcv));
    CHECK_EQ(le32toh(rcv.num_identifiers), 0); /* the last were dropped */
    CHECK_EQ(gfx_ctx_destroy(w.g, CTX), OK);
    CHECK_EQ(gfx_fds_used(w.g), 0);
    teardown(&w);
}

TEST(bad_commands)
{
    struct world w;
    setup(&w, true);
    uint64_t logged = log_guest_count();
    uint8_t buf[1024];
    memset(buf, 0, sizeof(buf));
    struct cross_domain_header *h = (struct cross_domain_header *)buf;

    /* Truncated header, zero and oversized cmd_size, unknown command. */
    CHECK_EQ(submit(&w, buf, 4), E_PARAMETER);
    h->cmd = CROSS_DOMAIN_CMD_POLL;
    h->cmd_size = 0;
    CHECK_EQ(submit(&w, buf, 16), E_PARAMETER);
    h->cmd_size = htole16(17);
    CHECK_EQ(submit(&w, buf, 16), E_PARAMETER);
    h->cmd = 99;
    h->cmd_size = htole16(16);
    CHECK_EQ(submit(&w, buf, 16), E_PARAMETER);
    h->cmd = CROSS_DOMAIN_CMD_RECEIVE; /* host -> guest only */
    CHECK_EQ(submit(&w, buf, 16), E_PARAMETER);
    /* Two POLLs back to back are fine; a bad second one fails it all. */
    h->cmd = CROSS_DOMAIN_CMD_POLL;
    memcpy(buf + 16, buf, 16);
    CHECK_EQ(submit(&w, buf, 32), OK);
    CHECK_EQ(submit(&w, buf, 0), OK);
    CHECK_EQ(submit(&w, buf, 20), E_PARAMETER);

    /* SEND: too many identifiers, lying sizes, unknown ids and types. */
    uint32_t ids[CROSS_DOMAIN_MAX_IDENTIFIERS + 1] = { 0 };
    uint32_t types[CROSS_DOMAIN_MAX_IDENTIFIERS + 1] = { 0 };
    CHECK_EQ(send_msg(&w, ids, types, CROSS_DOMAIN_MAX_IDENTIFIERS + 1, "x", 1),
             E_PARAMETER);
    struct cross_domain_send_receive s;
    memset(&s, 0, sizeof(s));
    s.hdr.cmd = CROSS_DOMAIN_CMD_SEND;
    s.hdr.cmd_size = htole16(sizeof(s) + 4);
    s.opaque_data_size = htole32(5);
    memcpy(buf, &s, sizeof(s));
    CHECK_EQ(submit(&w, buf, sizeof(s) + 4), E_PARAMETER);
    s.hdr.cmd_size = htole16(sizeof(s) - 1);
    memcpy(buf, &s, sizeof(s));
    CHECK_EQ(submit(&w, buf, sizeof(s) - 1), E_PARAMETER);
    ids[0] = 12345;
    types[0] = CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB;
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), E_RESOURCE);
    ids[0] = QUERY_RES; /* attached, but guest memory: no host fd */
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), E_RESOURCE);
    types[0] = CROSS_DOMAIN_ID_TYPE_VIRTGPU_SYNC;
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), E_PARAMETER);
    types[0] = CROSS_DOMAIN_ID_TYPE_WRITE_PIPE;
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), E_PARAMETER);
    /* fds need bytes to travel with. */
    types[0] = CROSS_DOMAIN_ID_TYPE_READ_PIPE;
    ids[0] = CROSS_DOMAIN_PIPE_READ_START + 1;
    CHECK_EQ(send_msg(&w, ids, types, 1, "", 0), E_PARAMETER);
    /* Unattached blob resource: a host blob of this context detached. */
    struct cross_domain_image_requirements r;
    CHECK_EQ(get_reqs(&w, 4, 4, FOURCC('R', '8', ' ', ' '), &r), OK);
    CHECK_EQ(host_blob(&w, 500, le32toh(r.blob_id), 4096), OK);
    ids[0] = 500;
    types[0] = CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB;
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), E_RESOURCE);
    CHECK_EQ(gfx_ctx_attach_resource(w.g, CTX, 500), OK);
    CHECK_EQ(send_msg(&w, ids, types, 1, "x", 1), OK);
    unsigned nfds;
    int fds[32];
    char got[8];
    CHECK_EQ(comp_recv(w.comp, got, sizeof(got), fds, &nfds), 1);
    CHECK_EQ(nfds, 1);
    for (unsigned i = 0; i < nfds; i++) {
        close(fds[i]);
    }
    /* An oversized payload. */
    static uint8_t big[CROSS_DOMAIN_MAX_SEND_RECV_SIZE + 1];
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, big, sizeof(big)), E_PARAMETER);
    CHECK_EQ(send_msg(&w, NULL, NULL, 0, big, sizeof(big) - 1), OK);

    /* WRITE: unknown id, truncated, lying size. */
    CHECK_EQ(write_msg(&w, 3, false, "x", 1), E_PARAMETER);
    struct cross_domain_read_write wr = {
        .hdr = { .cmd = CROSS_DOMAIN_CMD_WRITE, .cmd_size = htole16(24) },
        .opaque_data_size = htole32(1),
    };
    CHECK_EQ(submit(&w, &wr, 24), E_PARAMETER);
    CHECK_EQ(submit(&w, &wr, 20), E_PARAMETER);

    /* The ring detached: GET_IMAGE_REQUIREMENTS fails cleanly. */
    CHECK_EQ(gfx_ctx_detach_resource(w.g, CTX, QUERY_RES), OK);
    CHECK_EQ(get_reqs(&w, 4, 4, FOURCC('R', '8', ' ', ' '), &r), E_RESOURCE);
    /* And the channel ring: an event with nowhere to go drops the fence
     * instead of spinning. */
    CHECK_EQ(gfx_ctx_detach_resource(w.g, CTX, CHANNEL_RES), OK);
    CHECK_EQ(comp_send(w.comp, "q", 1, NULL, 0), 1);
    CHECK_EQ(gfx_create_fence(w.g, CTX, 1, 80), OK);
    dispatch(&w);
    CHECK(!signalled(1, 80));
    CHECK(!event_ready(&w));

    CHECK(log_guest_count() > logged);
    teardown(&w);
}

int main(void)
{
    struct error err = { 0 };
    signal(SIGPIPE, SIG_IGN);
    if (mem_add_block(&mm, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0) {
        printf("mem setup: %s\n", err.msg);
        return 1;
    }
    strcpy(dir, "/tmp/swede-cd-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("mkdtemp failed\n");
        return 1;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/wayland-test", dir);
    RUN(capset);
    RUN(init);
    RUN(image_requirements);
    RUN(send_blob_and_pipe);
    RUN(receive_fds);
    RUN(one_event_per_fence);
    RUN(hang_up);
    RUN(send_queue);
    RUN(write_queue);
    RUN(fd_caps);
    RUN(bad_commands);
    unlink(sock_path);
    rmdir(dir);
    mem_free(&mm);
    HARNESS_END();
}
