/* SPDX-License-Identifier: MIT */
/*
 * The cross-domain context type's wire format (capset 5; reference
 * virtio-gpu.md section 4.2-4.3: crosvm's cross_domain_protocol.rs, which
 * no uapi header carries), and the few virtgpu DRM calls a guest program
 * needs to speak it, for the guest programs virtgpu-ctx and
 * swede-wl-proxy.  Header-only: every guest program is one static binary
 * built from guest/NAME.c.
 */
#ifndef SWEDE_GUEST_CROSS_DOMAIN_H
#define SWEDE_GUEST_CROSS_DOMAIN_H

#include <drm/drm.h>
#include <drm/virtgpu_drm.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
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
#define CD_CMD_READ                   6
#define CD_CMD_WRITE                  7
#define CD_CHANNEL_WAYLAND            1
#define CD_ID_VIRTGPU_BLOB            1
#define CD_ID_READ_PIPE               3
#define CD_ID_WRITE_PIPE              4
#define CD_PIPE_READ_START            0x80000000u
#define CD_MAX_IDENTIFIERS            28
#define QUERY_RING                    0
#define CHANNEL_RING                  1
#define PAGE                          4096u
#define FOURCC_XR24                   0x34325258u
#define FOURCC_R8                     0x20203852u
#define GBM_SCANOUT                   (1u << 0)
#define GBM_LINEAR                    (1u << 4)

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

struct cd_read_write {
    struct cd_header hdr;
    uint32_t identifier;
    uint32_t hang_up;
    uint32_t opaque_data_size;
    uint32_t pad;
};

_Static_assert(sizeof(struct cd_init) == 20, "wire size");
_Static_assert(sizeof(struct cd_get_reqs) == 24, "wire size");
_Static_assert(sizeof(struct cd_poll) == 16, "wire size");
_Static_assert(sizeof(struct cd_reqs) == 64, "wire size");
_Static_assert(sizeof(struct cd_send_receive) == 352, "wire size");
_Static_assert(sizeof(struct cd_read_write) == 24, "wire size");

/* The most a SEND or RECEIVE carries: a one-page channel ring less the
 * header (the host's limit too). */
#define CD_MAX_PAYLOAD (PAGE - (uint32_t)sizeof(struct cd_send_receive))
/* The most a READ or WRITE carries. */
#define CD_MAX_PIPE_PAYLOAD (PAGE - (uint32_t)sizeof(struct cd_read_write))

/* A buffer object: GEM handle, resource id, size and mapping. */
struct bo {
    uint32_t handle, res;
    uint64_t size;
    uint8_t *map;
};

static inline int cd_ioctl(int fd, unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(fd, req, arg);
    } while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r;
}

/* The first virtio_gpu DRM device (render node first), or -1. */
static inline int cd_open_device(const char **path)
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
            if (path) {
                *path = paths[i];
            }
            return fd;
        }
        close(fd);
    }
    return -1;
}

/* A cross-domain context with the query and channel rings, the channel
 * ring polled (CONTEXT_INIT). */
static inline int cd_context_init(int fd)
{
    struct drm_virtgpu_context_set_param p[3] = {
        { VIRTGPU_CONTEXT_PARAM_CAPSET_ID, CAPSET_CROSS_DOMAIN },
        { VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 },
        { VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 1u << CHANNEL_RING },
    };
    struct drm_virtgpu_context_init ci = { .num_params = 3,
                                           .ctx_set_params = (uintptr_t)p };
    return cd_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci);
}

/* RESOURCE_CREATE_BLOB, MAP and mmap; NULL or the failed step in *why. */
static inline int cd_create_blob(int fd, struct bo *b, uint32_t mem,
                                 uint32_t flags, uint64_t size,
                                 uint64_t blob_id, const char **why)
{
    memset(b, 0, sizeof(*b));
    struct drm_virtgpu_resource_create_blob cb = {
        .blob_mem = mem, .blob_flags = flags, .size = size, .blob_id = blob_id
    };
    if (cd_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &cb) < 0) {
        *why = "RESOURCE_CREATE_BLOB";
        return -1;
    }
    b->handle = cb.bo_handle;
    b->res = cb.res_handle;
    b->size = size;
    struct drm_virtgpu_map m = { .handle = b->handle };
    if (cd_ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &m) < 0) {
        *why = "MAP";
        return -1;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                   (off_t)m.offset);
    if (p == MAP_FAILED) {
        *why = "mmap";
        return -1;
    }
    b->map = p;
    return 0;
}

/* Unmap and close a buffer object (the resource goes when the kernel
 * drops its last reference). */
static inline void cd_close_bo(int fd, struct bo *b)
{
    if (b->map) {
        munmap(b->map, b->size);
    }
    if (b->handle) {
        struct drm_gem_close gc = { .handle = b->handle };
        cd_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
    }
    memset(b, 0, sizeof(*b));
}

/* EXECBUFFER on ring (-1: the context's global timeline); *fence_fd
 * gets the out-fence when fence_fd is not NULL. */
static inline int cd_execbuf(int fd, const void *cmd, uint32_t size, int ring,
                             uint32_t *bos, uint32_t n_bos, int *fence_fd)
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
    if (cd_ioctl(fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb) < 0) {
        return -1;
    }
    if (fence_fd) {
        *fence_fd = eb.fence_fd;
    }
    return 0;
}

static inline void cd_hdr(struct cd_header *h, uint8_t cmd, uint16_t size)
{
    memset(h, 0, sizeof(*h));
    h->cmd = cmd;
    h->cmd_size = size;
}

/* A GET_IMAGE_REQUIREMENTS command. */
static inline struct cd_get_reqs cd_reqs_cmd(uint32_t width, uint32_t height,
                                             uint32_t drm_format,
                                             uint32_t flags)
{
    struct cd_get_reqs q;
    memset(&q, 0, sizeof(q));
    cd_hdr(&q.hdr, CD_CMD_GET_IMAGE_REQUIREMENTS, sizeof(q));
    q.width = width;
    q.height = height;
    q.drm_format = drm_format;
    q.flags = flags;
    return q;
}

/* Poll a fence fd until signalled: 0 signalled, -1 error, -2 timeout. */
static inline int cd_fence_wait(int fd, int timeout_ms)
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

#endif
