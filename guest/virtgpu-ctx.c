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
 *
 * virtgpu-ctx --bench N [SIZE] measures the guest-to-compositor-to-guest
 * round trip instead (bench/crossdomain.py): context_init, rings, cd_init
 * and the HELLO as above (only failures printed), one untimed warm-up,
 * then N round trips, each a SEND of SIZE bytes (default 64, at most
 * 3744, the ring page less the RECEIVE header; not fenced, as a Wayland
 * proxy sends) and fenced ring-1 POLLs until the whole echo has been
 * RECEIVEd, timed with CLOCK_MONOTONIC from before the SEND to the last
 * POLL's DRM event; the echo must equal the message (which differs from
 * round to round).  It prints "virtgpu-ctx: bench n=N size=SIZE
 * median_us=M p90_us=P min_us=A max_us=B" and exits 0, or prints a FAIL
 * line and exits 1 (2 for bad usage).
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
#include <time.h>
#include <unistd.h>

#include "cross-domain.h"

#define FENCE_TIMEOUT_MS 20000

#define HELLO "virtgpu-ctx-hello"
#define PING  "virtgpu-ctx-ping"

#define BENCH_DEFAULT_SIZE 64
#define BENCH_MAX_N        1000000u

static int drm_fd = -1;
static int failures;
static bool quiet; /* --bench: no ok lines */

static void ok(const char *name, const char *fmt, ...)
{
    va_list ap;

    if (quiet) {
        return;
    }
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
    return cd_ioctl(drm_fd, req, arg);
}

static int open_device(void)
{
    const char *path = "";
    int fd = cd_open_device(&path);
    if (fd >= 0 && !quiet) {
        printf("virtgpu-ctx: device %s\n", path);
    }
    return fd;
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
    if (cd_context_init(drm_fd) < 0) {
        return fail("context_init", "%s", strerror(errno));
    }
    /* A second init on the same file must be refused. */
    if (cd_context_init(drm_fd) == 0 || errno != EEXIST) {
        return fail("context_init", "second CONTEXT_INIT: %s, want EEXIST",
                    strerror(errno));
    }
    ok("context_init", "capset=5 num_rings=2 poll_rings_mask=0x2");
    return true;
}

static bool create_blob(struct bo *b, uint32_t mem, uint32_t flags,
                        uint64_t size, uint64_t blob_id, const char **why)
{
    return cd_create_blob(drm_fd, b, mem, flags, size, blob_id, why) == 0;
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
    return cd_execbuf(drm_fd, cmd, size, ring, bos, n_bos, fence_fd);
}

static const char *fence_err(int r)
{
    return r == -2 ? "timed out" : strerror(errno);
}

/*
 * POLL on ring 1 with an out-fence; the fence fd must signal (the host
 * signals once a compositor message is in the channel ring) and a
 * VIRTGPU_EVENT_FENCE_SIGNALED event must be readable on the DRM fd (ring
 * 1 is in POLL_RINGS_MASK).  *rc gets the channel ring's header (its
 * payload follows it in the ring), *event the event type.
 */
static bool poll_receive(const char *name, const struct bo *channel,
                         struct cd_send_receive *rc, uint32_t *event)
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
    r = cd_fence_wait(fd, FENCE_TIMEOUT_MS);
    close(fd);
    if (r < 0) {
        return fail(name, "fence: %s", fence_err(r));
    }
    struct drm_event ev = { 0 };
    if ((r = cd_fence_wait(drm_fd, FENCE_TIMEOUT_MS)) < 0) {
        return fail(name, "no DRM event: %s", fence_err(r));
    }
    if (read(drm_fd, &ev, sizeof(ev)) != sizeof(ev) ||
        ev.type != VIRTGPU_EVENT_FENCE_SIGNALED || ev.length != sizeof(ev)) {
        return fail(name, "bad DRM event type 0x%x length %u", ev.type,
                    ev.length);
    }
    memcpy(rc, channel->map, sizeof(*rc));
    *event = ev.type;
    return true;
}

/* poll_receive, and the channel ring must hold a RECEIVE of exactly
 * want. */
static bool poll_channel(const char *name, const struct bo *channel,
                         const char *want, uint32_t *event)
{
    struct cd_send_receive rc;
    if (!poll_receive(name, channel, &rc, event)) {
        return false;
    }
    const char *data = (const char *)channel->map + sizeof(rc);
    if (rc.hdr.cmd != CD_CMD_RECEIVE || rc.num_identifiers != 0 ||
        rc.opaque_data_size != strlen(want) ||
        memcmp(data, want, strlen(want)) != 0) {
        return fail(name, "channel ring: cmd=%u ids=%u size=%u data=%.20s",
                    rc.hdr.cmd, rc.num_identifiers, rc.opaque_data_size, data);
    }
    return true;
}

/* SEND n bytes (no identifiers) on the global timeline; with fenced, wait
 * for its out-fence. */
static bool cd_send(const char *name, const void *data, uint32_t n, bool fenced)
{
    static uint8_t m[PAGE];
    struct cd_send_receive s;
    int fd = -1, r;

    if (n > CD_MAX_PAYLOAD) {
        return fail(name, "%u bytes, at most %u", n, CD_MAX_PAYLOAD);
    }
    memset(&s, 0, sizeof(s));
    cd_hdr(&s.hdr, CD_CMD_SEND, (uint16_t)(sizeof(s) + n));
    s.opaque_data_size = n;
    memcpy(m, &s, sizeof(s));
    memcpy(m + sizeof(s), data, n);
    uint32_t len = (uint32_t)sizeof(s) + n;
    if (execbuf(m, len, -1, NULL, 0, fenced ? &fd : NULL) < 0) {
        return fail(name, "EXECBUFFER: %s", strerror(errno));
    }
    if (fenced) {
        r = cd_fence_wait(fd, FENCE_TIMEOUT_MS);
        if (r < 0) {
            fail(name, "fence: %s", fence_err(r));
        }
        close(fd);
        return r == 0;
    }
    return true;
}

/* The two rings: one GUEST page each, mapped. */
static bool make_rings(struct bo *query, struct bo *channel)
{
    const char *why = "";

    if (!create_blob(query, VIRTGPU_BLOB_MEM_GUEST,
                     VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why) ||
        !create_blob(channel, VIRTGPU_BLOB_MEM_GUEST,
                     VIRTGPU_BLOB_FLAG_USE_MAPPABLE, PAGE, 0, &why)) {
        return fail("rings", "%s: %s", why, strerror(errno));
    }
    memset(query->map, 0, PAGE);
    memset(channel->map, 0, PAGE);
    ok("rings", "query=res%u channel=res%u size=%u", query->res, channel->res,
       PAGE);
    return true;
}

/* INIT, fenced (global timeline: no RING_IDX). */
static bool cross_domain_init(const struct bo *query, const struct bo *channel)
{
    /* INIT and a query in one buffer: the host steps through it by
     * cmd_size and stops at the first error, so an answer in the query
     * ring shows that INIT succeeded (the kernel reports no host errors
     * to us). */
    struct {
        struct cd_init in;
        struct cd_get_reqs q;
    } b;
    memset(&b, 0, sizeof(b));
    cd_hdr(&b.in.hdr, CD_CMD_INIT, sizeof(b.in));
    b.in.query_ring_id = query->res;
    b.in.channel_ring_id = channel->res;
    b.in.channel_type = CD_CHANNEL_WAYLAND;
    b.q = cd_reqs_cmd(1, 1, FOURCC_R8, 0);
    _Static_assert(sizeof(b) == 44, "two commands, no padding");
    struct cd_reqs r1;
    int fd, r;
    if (execbuf(&b, sizeof(b), -1, NULL, 0, &fd) < 0) {
        return fail("cd_init", "EXECBUFFER: %s", strerror(errno));
    }
    if ((r = cd_fence_wait(fd, FENCE_TIMEOUT_MS)) < 0) {
        fail("cd_init", "fence: %s", fence_err(r));
        close(fd);
        return false;
    }
    close(fd);
    memcpy(&r1, query->map, sizeof(r1));
    if (r1.strides[0] != 1 || r1.size != PAGE) {
        return fail("cd_init",
                    "INIT refused: no answer to the query after it "
                    "(stride=%u size=%llu)",
                    r1.strides[0], (unsigned long long)r1.size);
    }
    ok("cd_init", "query_ring=%u channel_ring=%u channel=wayland", query->res,
       channel->res);
    return true;
}

static double elapsed_us(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e6 +
           (double)(b->tv_nsec - a->tv_nsec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*
 * One round trip: SEND the size bytes of msg, then POLL until all of them
 * have come back (the compositor's socket is a stream, so the echo may
 * arrive in several RECEIVEs).  *done gets the time the last one was
 * seen, before its bytes are compared.
 */
static bool round_trip(const struct bo *channel, const uint8_t *msg,
                       uint32_t size, struct timespec *done)
{
    uint32_t got = 0;

    if (!cd_send("bench", msg, size, false)) {
        return false;
    }
    while (got < size) {
        struct cd_send_receive rc;
        uint32_t event;
        if (!poll_receive("bench", channel, &rc, &event)) {
            return false;
        }
        if (rc.hdr.cmd != CD_CMD_RECEIVE || rc.num_identifiers != 0 ||
            rc.opaque_data_size == 0 || rc.opaque_data_size > size - got) {
            return fail("bench",
                        "channel ring after %u of %u bytes: cmd=%u ids=%u "
                        "size=%u",
                        got, size, rc.hdr.cmd, rc.num_identifiers,
                        rc.opaque_data_size);
        }
        if (got + rc.opaque_data_size == size) {
            clock_gettime(CLOCK_MONOTONIC, done);
        }
        const uint8_t *data = channel->map + sizeof(rc);
        if (memcmp(data, msg + got, rc.opaque_data_size) != 0) {
            return fail("bench",
                        "echo differs from the message in bytes %u..%u of %u",
                        got, got + rc.opaque_data_size - 1, size);
        }
        got += rc.opaque_data_size;
    }
    return true;
}

static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < 1 || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* virtgpu-ctx --bench N [SIZE] (argv[2], argv[3]): see the top. */
static int bench(int argc, char **argv)
{
    struct bo query = { 0 }, channel = { 0 };
    unsigned long n, size = BENCH_DEFAULT_SIZE;
    uint32_t event = 0;

    if (argc < 3 || argc > 4 || !parse_count(argv[2], BENCH_MAX_N, &n) ||
        (argc == 4 && !parse_count(argv[3], CD_MAX_PAYLOAD, &size))) {
        fail("bench",
             "usage: virtgpu-ctx --bench N [SIZE] (1 <= N <= %u, "
             "1 <= SIZE <= %u)",
             BENCH_MAX_N, CD_MAX_PAYLOAD);
        return 2;
    }
    quiet = true;
    drm_fd = open_device();
    if (drm_fd < 0) {
        fail("open", "no virtio_gpu DRM device");
        return 1;
    }
    /* The HELLO the compositor sends on connect comes first. */
    if (!check_context_init() || !make_rings(&query, &channel) ||
        !cross_domain_init(&query, &channel) ||
        !poll_channel("hello", &channel, HELLO, &event)) {
        return 1;
    }

    uint8_t *msg = malloc(size);
    double *us = malloc(n * sizeof(*us));
    if (!msg || !us) {
        fail("bench", "out of memory");
        return 1;
    }
    /* Round 0 is the untimed warm-up.  Each round's message differs, so a
     * stale or repeated echo cannot match. */
    for (unsigned long i = 0; i <= n; i++) {
        struct timespec t0, t1;
        for (unsigned long j = 0; j < size; j++) {
            msg[j] = (uint8_t)(i * 167u + j * 13u + 1u);
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (!round_trip(&channel, msg, (uint32_t)size, &t1)) {
            fail("bench", "round trip %lu of %lu", i, n);
            return 1;
        }
        if (i > 0) {
            us[i - 1] = elapsed_us(&t0, &t1);
        }
    }
    qsort(us, n, sizeof(*us), cmp_double);
    /* The median, and the 90th percentile by nearest rank. */
    double median = n % 2 ? us[n / 2] : (us[n / 2 - 1] + us[n / 2]) / 2;
    double p90 = us[(9 * n + 9) / 10 - 1];
    printf("virtgpu-ctx: bench n=%lu size=%lu median_us=%.1f p90_us=%.1f "
           "min_us=%.1f max_us=%.1f\n",
           n, size, median, p90, us[0], us[n - 1]);
    fflush(stdout);
    free(msg);
    free(us);
    return 0;
}

/* Without arguments: every point at the top, one line each. */
static int check_all(void)
{
    struct bo query = { 0 }, channel = { 0 }, host = { 0 }, guest = { 0 };
    const char *why = "";
    bool have_ctx = false, have_rings = false, have_init = false;
    bool have_reqs = false;
    struct cd_reqs reqs;
    int fd;

    drm_fd = open_device();
    if (drm_fd < 0) {
        fail("open", "no virtio_gpu DRM device");
        printf("virtgpu-ctx: done\n");
        return 1;
    }

    check_getparam();
    check_get_caps();
    have_ctx = check_context_init();

    if (!have_ctx) {
        fail("rings", "no context");
    } else {
        have_rings = make_rings(&query, &channel);
    }

    if (!have_rings) {
        fail("cd_init", "no rings");
    } else {
        have_init = cross_domain_init(&query, &channel);
    }

    /* GET_IMAGE_REQUIREMENTS on ring 0 with the query bo, then WAIT. */
    if (!have_init) {
        fail("image_reqs", "no INIT");
        fail("wait", "no INIT");
    } else {
        struct cd_get_reqs q =
            cd_reqs_cmd(10, 10, FOURCC_XR24, GBM_LINEAR | GBM_SCANOUT);
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
        struct cd_get_reqs q = cd_reqs_cmd(64, 64, FOURCC_XR24, GBM_LINEAR);
        memset(query.map, 0, PAGE);
        int r;
        if (execbuf(&q, sizeof(q), QUERY_RING, NULL, 0, &fd) < 0) {
            fail("fence_ring0", "EXECBUFFER: %s", strerror(errno));
        } else if (fd < 0) {
            fail("fence_ring0", "no fence fd");
        } else if ((r = cd_fence_wait(fd, FENCE_TIMEOUT_MS)) < 0) {
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
    } else if (cd_send("send", PING, sizeof(PING) - 1, true)) {
        uint32_t event = 0;
        if (poll_channel("send", &channel, PING, &event)) {
            ok("send", "\"%s\" %zu bytes, echoed back", PING, sizeof(PING) - 1);
        }
    }

    printf("virtgpu-ctx: done\n");
    fflush(stdout);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        return bench(argc, argv);
    }
    if (argc > 1) {
        fprintf(stderr, "usage: virtgpu-ctx [--bench N [SIZE]]\n");
        return 2;
    }
    return check_all();
}
