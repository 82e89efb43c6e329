/* SPDX-License-Identifier: MIT */
/*
 * The cross-domain context type (capset VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
 * 5), as rutabaga_gfx's CrossDomain: a per-context proxy between a guest
 * Wayland proxy (sommelier, wayland-proxy-virtwl) and the host
 * compositor's socket. The wire protocol below is crosvm's
 * cross_domain_protocol.rs (no system header carries it): commands are
 * SUBMIT_3D payloads, replies go to guest blob "rings" at offset 0, and
 * host events are delivered one per fence on ring 1 (reference
 * virtio-gpu.md section 4). The core reaches the component through
 * gfx_cross_domain_component (component.h); the device includes this
 * header only for the event fd below, tests for the wire structs.
 *
 * Threads: nothing here is locked. Every function is called with the
 * device lock held, on the thread that holds it (a vCPU thread for
 * commands, the main loop for gfx_cross_domain_dispatch()). Nothing here
 * blocks: the compositor socket and host pipes are read only when ready,
 * and what they do not take at once is queued (at most
 * GFX_CD_MAX_QUEUED_BYTES per context) and written from
 * gfx_cross_domain_dispatch() when they are writable.
 */
#ifndef SWEDE_GFX_CROSS_DOMAIN_H
#define SWEDE_GFX_CROSS_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gfx;

#ifndef VIRTIO_GPU_CAPSET_CROSS_DOMAIN
/* Linux uapi since late 2023; Debian 12's headers predate it. */
#define VIRTIO_GPU_CAPSET_CROSS_DOMAIN 5
#endif

/* ---- the wire protocol (all fields little endian) ---- */

#define CROSS_DOMAIN_CMD_INIT                   1
#define CROSS_DOMAIN_CMD_GET_IMAGE_REQUIREMENTS 2
#define CROSS_DOMAIN_CMD_POLL                   3
#define CROSS_DOMAIN_CMD_SEND                   4
#define CROSS_DOMAIN_CMD_RECEIVE                5
#define CROSS_DOMAIN_CMD_READ                   6
#define CROSS_DOMAIN_CMD_WRITE                  7

#define CROSS_DOMAIN_CHANNEL_TYPE_WAYLAND 0x0001

#define CROSS_DOMAIN_ID_TYPE_VIRTGPU_BLOB 1
#define CROSS_DOMAIN_ID_TYPE_VIRTGPU_SYNC 2
#define CROSS_DOMAIN_ID_TYPE_READ_PIPE    3
#define CROSS_DOMAIN_ID_TYPE_WRITE_PIPE   4

#define CROSS_DOMAIN_QUERY_RING   0
#define CROSS_DOMAIN_CHANNEL_RING 1

#define CROSS_DOMAIN_PIPE_READ_START     0x80000000u
#define CROSS_DOMAIN_MAX_IDENTIFIERS     28
#define CROSS_DOMAIN_DEFAULT_BUFFER_SIZE 4096u
/* "all commands up to and including WRITE" */
#define CROSS_DOMAIN_PROTOCOL_VERSION 1

struct cross_domain_header {
    uint8_t cmd;
    uint8_t ring_idx;  /* ignored by the host */
    uint16_t cmd_size; /* this command with its payload, bytes */
    uint32_t pad;
};

struct cross_domain_capabilities {
    uint32_t version;
    uint32_t supported_channels; /* bit n: channel type n */
    uint32_t supports_dmabuf;
    uint32_t supports_external_gpu_memory;
};

/* v0 (20 bytes); libkrun's v1 appends a u32 protocol_version, ignored. */
struct cross_domain_init {
    struct cross_domain_header hdr;
    uint32_t query_ring_id;
    uint32_t channel_ring_id;
    uint32_t channel_type;
};

struct cross_domain_get_image_requirements {
    struct cross_domain_header hdr;
    uint32_t width;
    uint32_t height;
    uint32_t drm_format; /* fourcc */
    uint32_t flags;      /* gralloc (GBM-style) use flags */
};

struct cross_domain_poll {
    struct cross_domain_header hdr;
    uint64_t pad;
};

/* The reply to GET_IMAGE_REQUIREMENTS, at offset 0 of the query ring. */
struct cross_domain_image_requirements {
    uint32_t strides[4];
    uint32_t offsets[4];
    uint64_t modifier;
    uint64_t size;
    uint32_t blob_id;
    uint32_t map_info;
    int32_t memory_idx;
    int32_t physical_device_idx;
};

/* SEND (guest -> host) and RECEIVE (host -> guest, at offset 0 of the
 * channel ring); opaque_data_size bytes follow. */
struct cross_domain_send_receive {
    struct cross_domain_header hdr;
    uint32_t num_identifiers;
    uint32_t opaque_data_size;
    uint32_t identifiers[CROSS_DOMAIN_MAX_IDENTIFIERS];
    uint32_t identifier_types[CROSS_DOMAIN_MAX_IDENTIFIERS];
    uint32_t identifier_sizes[CROSS_DOMAIN_MAX_IDENTIFIERS];
};

/* WRITE (guest -> host pipe) and READ (host pipe -> guest); data
 * follows. */
struct cross_domain_read_write {
    struct cross_domain_header hdr;
    uint32_t identifier;
    uint32_t hang_up;
    uint32_t opaque_data_size;
    uint32_t pad;
};

_Static_assert(sizeof(struct cross_domain_header) == 8, "wire size");
_Static_assert(sizeof(struct cross_domain_capabilities) == 16, "wire size");
_Static_assert(sizeof(struct cross_domain_init) == 20, "wire size");
_Static_assert(sizeof(struct cross_domain_get_image_requirements) == 24,
               "wire size");
_Static_assert(sizeof(struct cross_domain_poll) == 16, "wire size");
_Static_assert(sizeof(struct cross_domain_image_requirements) == 64,
               "wire size");
_Static_assert(sizeof(struct cross_domain_send_receive) == 352, "wire size");
_Static_assert(sizeof(struct cross_domain_read_write) == 24, "wire size");

/* Largest payload of one SEND or RECEIVE, as in crosvm. */
#define CROSS_DOMAIN_MAX_SEND_RECV_SIZE \
    (CROSS_DOMAIN_DEFAULT_BUFFER_SIZE - \
     (uint32_t)sizeof(struct cross_domain_send_receive))

/* ---- limits on what one guest context can make the host hold ---- */

/* Host fds (received keymaps/shm, write pipes, read pipes) per context;
 * each is also charged with gfx_fd_charge(). */
#define GFX_CD_MAX_FD_ITEMS 128u
/* Image-requirement answers kept per context (oldest dropped). */
#define GFX_CD_MAX_REQS 256u
/* Ring-1 fences waiting for a host event, per context. */
#define GFX_CD_MAX_PENDING_FENCES 16u
/* Largest width or height GET_IMAGE_REQUIREMENTS accepts. */
#define GFX_CD_MAX_DIM 16384u
/* Largest fd from the compositor taken (bytes). Read-only, sealed or
 * odd-sized ones are copied into a memfd of swede's own. */
#define GFX_CD_MAX_RECV_SIZE (64ull << 20)
/* SEND and WRITE bytes the compositor or a pipe reader has not taken
 * yet, per context (over it, the command is refused: OUT_OF_MEMORY), and
 * fds queued with SEND bytes. */
#define GFX_CD_MAX_QUEUED_BYTES (1u << 20)
#define GFX_CD_MAX_QUEUED_FDS   64u

/* ---- host events ----
 *
 * Host events (compositor messages, read-pipe data and hang-ups) are
 * taken only while the guest has a ring-1 fence waiting, and with no
 * thread: the component keeps one epoll fd per gfx that is readable
 * exactly when some context has a fence waiting and an event ready, or
 * queued output (SEND, WRITE) and its socket or pipe writable. The
 * device watches it on the main loop and calls
 * gfx_cross_domain_dispatch() under the device lock when it fires.
 */

/* The fd to watch (EPOLLIN), or -1 if g has no cross-domain component.
 * It stays the same for g's life. */
int gfx_cross_domain_event_fd(struct gfx *g);
/* Deliver ready host events, one per waiting ring-1 fence, signalling
 * each fence (gfx_fence_signal), and write queued output. Never blocks.
 * Device lock held. */
void gfx_cross_domain_dispatch(struct gfx *g);

/* The capset data (16 bytes): supported_channels has WAYLAND iff
 * has_wayland. Copies min(size, 16) bytes. */
void gfx_cross_domain_capset(bool has_wayland, void *buf, uint32_t size);
#define GFX_CROSS_DOMAIN_CAPSET_VERSION 0
#define GFX_CROSS_DOMAIN_CAPSET_SIZE \
    ((uint32_t)sizeof(struct cross_domain_capabilities))

/* The default compositor socket: $XDG_RUNTIME_DIR/$WAYLAND_DISPLAY
 * ($WAYLAND_DISPLAY may be absolute; "wayland-0" if unset), written to
 * buf. NULL if XDG_RUNTIME_DIR is unset or the path does not fit. */
const char *gfx_cross_domain_default_socket(char *buf, size_t len);

#endif
