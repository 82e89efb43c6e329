/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the cross-domain command parser (src/gfx/
 * cross_domain.c) and what it drives: SUBMIT_3D streams of any bytes,
 * structured SENDs naming any resources and pipe ids, blobs made from any
 * blob id and size, attach/detach of the rings under the context's feet,
 * ring-1 fences, and a fake compositor (a unix socket in a temporary
 * directory) that sends bytes with memfds (sealed or not), pipe ends and
 * sockets, reads what it gets, and hangs up. The gfx runs over 1 MiB of
 * fake guest RAM with small host memory and fd caps.
 *
 * Input: byte 0 = setup (bit 0: INIT a Wayland channel; bit 1: INIT
 * query-only; bit 2: the channel ring is 1 KiB instead of 4). Then
 * operations, one opcode byte each (value % 8):
 *   0  submit: a 16-bit little-endian length, then that many bytes.
 *   1  SEND: n (byte, % 30), n (id u32, type byte) pairs, a data length
 *      byte, data.
 *   2  compositor sends: a length byte, a fd-mask byte (bit 0 memfd,
 *      1 sealed memfd, 2 pipe write end, 3 pipe read end, 4 socket), a
 *      size byte for the memfds (* 512), then the bytes.
 *   3  fence: ring byte (% 3).
 *   4  dispatch host events.
 *   5  create blob: resource byte, blob id byte, size u16 (* 16).
 *   6  attach (bit 7 clear) or detach resource byte & 0x7f.
 *   7  compositor reads and closes what it got (bit 0 of the next byte
 *      set: then hangs up).
 * Checks: no crash, no sanitizer report, no fd leak (the process's open
 * fd count is the same after each input).
 */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/error.h"
#include "gfx/cross_domain.h"
#include "gfx/gfx.h"
#include "mem/mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define CTX      1u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mem_map mem;
static bool ready;
static char dir[64], sock_path[128];
static int listen_fd = -1;

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t in_u8(struct input *in)
{
    if (!in->n) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint32_t in_u32(struct input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        v |= (uint32_t)in_u8(in) << (8 * i);
    }
    return v;
}

static size_t in_take(struct input *in, uint8_t *dst, size_t len)
{
    len = len < in->n ? len : in->n;
    memcpy(dst, in->p, len);
    in->p += len;
    in->n -= len;
    return len;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return -1;
    }
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

static bool setup_once(void)
{
    struct error err = { 0 };
    signal(SIGPIPE, SIG_IGN);
    if (mem_add_block(&mem, RAM_BASE, RAM_SIZE, false, "ram", &err) < 0) {
        return false;
    }
    strcpy(dir, "/tmp/swede-fuzz-cd-XXXXXX");
    if (!mkdtemp(dir)) {
        return false;
    }
    snprintf(sock_path, sizeof(sock_path), "%s/wl", dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, sock_path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(listen_fd, 16)) {
        return false;
    }
    return true;
}

static void ring(struct gfx *g, uint32_t id, uint64_t gpa, uint32_t len)
{
    struct gfx_iovec e = { gpa, len };
    gfx_resource_create_blob(g, 0, id, VIRTIO_GPU_BLOB_MEM_GUEST,
                             VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE, 0, len, &e, 1);
    gfx_ctx_attach_resource(g, CTX, id);
}

static void comp_send(int sock, struct input *in)
{
    uint8_t buf[256];
    uint8_t len = in_u8(in), mask = in_u8(in);
    uint64_t msize = (uint64_t)in_u8(in) * 512 + 1;
    size_t n = in_take(in, buf, len);
    int fds[8], nfds = 0, extra[8], nextra = 0;
    for (int kind = 0; kind < 5; kind++) {
        if (!(mask & (1u << kind))) {
            continue;
        }
        if (kind <= 1) {
            int fd = memfd_create("f", MFD_CLOEXEC | MFD_ALLOW_SEALING);
            if (fd >= 0 && ftruncate(fd, (off_t)msize) == 0 && kind == 1) {
                fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK);
            }
            if (fd >= 0) {
                fds[nfds++] = fd;
            }
        } else if (kind <= 3) {
            int p[2];
            if (pipe2(p, O_CLOEXEC) == 0) {
                fds[nfds++] = kind == 2 ? p[1] : p[0];
                extra[nextra++] = kind == 2 ? p[0] : p[1];
            }
        } else {
            int sp[2];
            if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
                fds[nfds++] = sp[0];
                extra[nextra++] = sp[1];
            }
        }
    }
    union {
        char b[CMSG_SPACE(8 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { buf, n };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds) {
        memset(&ctl, 0, sizeof(ctl));
        msg.msg_control = ctl.b;
        msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
    }
    sendmsg(sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    for (int i = 0; i < nfds; i++) {
        close(fds[i]);
    }
    for (int i = 0; i < nextra; i++) {
        close(extra[i]);
    }
}

/* Read everything the guest sent; write into and close what came. */
static void comp_drain(int sock)
{
    for (;;) {
        uint8_t buf[4096];
        union {
            char b[CMSG_SPACE(32 * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = { buf, sizeof(buf) };
        struct msghdr msg = {
            .msg_iov = &iov,
            .msg_iovlen = 1,
            .msg_control = ctl.b,
            .msg_controllen = sizeof(ctl.b),
        };
        ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n <= 0) {
            return;
        }
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm;
             cm = CMSG_NXTHDR(&msg, cm)) {
            size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
                if ((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY) {
                    fcntl(fd, F_SETFL, O_NONBLOCK);
                    if (write(fd, "data", 4) < 0) {
                        /* a full pipe is fine */
                    }
                }
                close(fd);
            }
        }
    }
}

static void send_cmd(struct gfx *g, struct input *in)
{
    static uint8_t buf[sizeof(struct cross_domain_send_receive) + 256];
    struct cross_domain_send_receive s;
    memset(&s, 0, sizeof(s));
    uint32_t nids = in_u8(in) % 30;
    for (uint32_t i = 0; i < nids && i < CROSS_DOMAIN_MAX_IDENTIFIERS; i++) {
        s.identifiers[i] = htole32(in_u32(in));
        s.identifier_types[i] = htole32(in_u8(in) % 6);
    }
    uint8_t len = in_u8(in);
    size_t n = in_take(in, buf + sizeof(s), len);
    s.hdr.cmd = CROSS_DOMAIN_CMD_SEND;
    s.hdr.cmd_size = htole16((uint16_t)(sizeof(s) + n));
    s.num_identifiers = htole32(nids);
    s.opaque_data_size = htole32((uint32_t)n);
    memcpy(buf, &s, sizeof(s));
    gfx_submit_3d(g, CTX, buf, (uint32_t)(sizeof(s) + n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (!setup_once()) {
            return 0;
        }
        ready = true;
    }
    if (size < 1) {
        return 0;
    }
    /* Connections earlier inputs made and never accepted. */
    for (int fd; (fd = accept4(listen_fd, NULL, NULL,
                               SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;) {
        close(fd);
    }
    int fds_before = count_fds();
    struct input in = { data + 1, size - 1 };
    uint8_t setup = data[0];
    struct gfx_config cfg = {
        .mem = &mem,
        .max_hostmem = 4ull << 20,
        .num_scanouts = 1,
        .capset_mask = 1ull << VIRTIO_GPU_CAPSET_CROSS_DOMAIN,
        .host_visible_size = 1ull << 20,
        .max_fds = 64,
        .wayland_socket_path = sock_path,
    };
    struct gfx *g = NULL;
    struct error err = { 0 };
    if (gfx_create(&cfg, &g, &err) < 0) {
        return 0;
    }
    gfx_ctx_create(g, CTX, VIRTIO_GPU_CAPSET_CROSS_DOMAIN, "f", 1);
    ring(g, 1, RAM_BASE, 4096);
    ring(g, 2, RAM_BASE + 0x1000, setup & 4 ? 1024 : 4096);
    int comp = -1;
    if (setup & 3) {
        struct cross_domain_init init = {
            .hdr = { .cmd = CROSS_DOMAIN_CMD_INIT, .cmd_size = htole16(20) },
            .query_ring_id = htole32(1),
            .channel_ring_id = htole32(2),
            .channel_type = htole32(setup & 1 ? 1 : 0),
        };
        if (gfx_submit_3d(g, CTX, &init, sizeof(init)) ==
                VIRTIO_GPU_RESP_OK_NODATA &&
            (setup & 1)) {
            comp = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        }
    }
    uint64_t fence_id = 1;
    static uint8_t buf[65536];
    for (unsigned ops = 0; in.n > 0 && ops < 256; ops++) {
        switch (in_u8(&in) % 8) {
        case 0: {
            uint32_t len = in_u8(&in);
            len |= (uint32_t)in_u8(&in) << 8;
            size_t n = in_take(&in, buf, len);
            gfx_submit_3d(g, CTX, buf, (uint32_t)n);
            break;
        }
        case 1:
            send_cmd(g, &in);
            break;
        case 2:
            if (comp >= 0) {
                comp_send(comp, &in);
            }
            break;
        case 3:
            gfx_create_fence(g, CTX, in_u8(&in) % 3, fence_id++);
            break;
        case 4:
            gfx_cross_domain_dispatch(g);
            break;
        case 5: {
            uint32_t res = in_u8(&in);
            uint32_t blob_id = in_u8(&in);
            uint32_t sz = in_u8(&in);
            sz |= (uint32_t)in_u8(&in) << 8;
            if (gfx_resource_create_blob(g, CTX, res,
                                         VIRTIO_GPU_BLOB_MEM_HOST3D,
                                         VIRTIO_GPU_BLOB_FLAG_USE_MAPPABLE |
                                             VIRTIO_GPU_BLOB_FLAG_USE_SHAREABLE,
                                         blob_id, (uint64_t)sz * 16, NULL,
                                         0) == VIRTIO_GPU_RESP_OK_NODATA) {
                uint32_t map_info;
                gfx_ctx_attach_resource(g, CTX, res);
                gfx_resource_map_blob(g, res, 0, &map_info);
            }
            break;
        }
        case 6: {
            uint8_t b = in_u8(&in);
            if (b & 0x80) {
                gfx_ctx_detach_resource(g, CTX, b & 0x7f);
            } else {
                gfx_ctx_attach_resource(g, CTX, b);
            }
            break;
        }
        case 7:
            if (comp >= 0) {
                comp_drain(comp);
                if (in_u8(&in) & 1) {
                    close(comp);
                    comp = -1;
                }
            }
            break;
        }
    }
    gfx_cross_domain_dispatch(g);
    gfx_destroy(g);
    if (comp >= 0) {
        close(comp);
    }
    if (fds_before >= 0 && count_fds() != fds_before) {
        fprintf(stderr, "fd leak: %d -> %d\n", fds_before, count_fds());
        abort();
    }
    return 0;
}
