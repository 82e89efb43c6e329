// SPDX-License-Identifier: MIT
/*
 * drm-pattern: put a known test image on the guest's display through the
 * kernel's DRM/KMS interface (raw ioctls on /dev/dri/card0, no libdrm).
 *
 *   drm-pattern [--cursor X Y] [WIDTH HEIGHT]
 *
 * It takes the first connected connector, its preferred mode (or the mode
 * of exactly WIDTH x HEIGHT, which must be one the connector lists) and a
 * CRTC that can drive it, creates an XRGB8888 dumb buffer of the mode's
 * size, draws the test image into it (see pattern_pixel(); the host-side
 * twin is tests/functional/gfx_pattern.py, which must stay in step), adds
 * it as a framebuffer, sets the CRTC to scan it out and reports the whole
 * framebuffer dirty.  With --cursor it also sets a 64x64 ARGB8888 cursor
 * (cursor_pixel(), hotspot 0,0) and moves it to X,Y; each SIGUSR1 then
 * moves it by (+200, +100).  It then prints
 * "drm-pattern: ok WxH" and sleeps with the device open, since closing it
 * would hand the display back to the console; kill it to stop.  On any
 * failure it prints "drm-pattern: error: ..." and exits with status 1.
 */

#define _GNU_SOURCE
#include <drm/drm.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_mode.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define CURSOR_SIZE 64

static const char *dev_path = "/dev/dri/card0";

static void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fputs("drm-pattern: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ioctl that retries on EINTR/EAGAIN, like libdrm's drmIoctl(). */
static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;

    do {
        r = ioctl(fd, req, arg);
    } while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);

    if (!p) {
        die("out of memory");
    }
    return p;
}

/*
 * The cursor image, as 0xAARRGGBB: an opaque red frame, an opaque green
 * diagonal (x == y), an opaque blue 16x16 square at the hotspot corner,
 * a half-transparent white square at 40..55 and transparent elsewhere.
 */
static uint32_t cursor_pixel(uint32_t x, uint32_t y)
{
    const uint32_t last = CURSOR_SIZE - 1;

    if (x == 0 || y == 0 || x == last || y == last) {
        return 0xffff0000;
    }
    if (x == y) {
        return 0xff00ff00;
    }
    if (x < 16 && y < 16) {
        return 0xff0000ff;
    }
    if (x >= 40 && x < 56 && y >= 40 && y < 56) {
        return 0x80ffffff;
    }
    return 0;
}

struct dumb {
    uint32_t handle, pitch;
    uint64_t size;
    uint32_t *map;
};

static void dumb_create(int fd, struct dumb *b, uint32_t w, uint32_t h)
{
    struct drm_mode_create_dumb create = { .width = w, .height = h, .bpp = 32 };
    struct drm_mode_map_dumb map = { 0 };
    void *p;

    if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create)) {
        die("CREATE_DUMB %ux%u: %s", w, h, strerror(errno));
    }
    map.handle = create.handle;
    if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map)) {
        die("MAP_DUMB: %s", strerror(errno));
    }
    p = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             map.offset);
    if (p == MAP_FAILED) {
        die("mmap of the dumb buffer: %s", strerror(errno));
    }
    if (create.pitch < w * 4) {
        die("dumb buffer pitch %u < %u", create.pitch, w * 4);
    }
    b->handle = create.handle;
    b->pitch = create.pitch;
    b->size = create.size;
    b->map = p;
}

struct output {
    uint32_t connector, crtc;
    struct drm_mode_modeinfo mode;
};

static int mode_preferred(const struct drm_mode_modeinfo *m)
{
    return (m->type & DRM_MODE_TYPE_PREFERRED) != 0;
}

/* Pick a connected connector, its mode and a CRTC for it. */
static void find_output(int fd, int want_w, int want_h, struct output *o)
{
    struct drm_mode_card_res res = { 0 };
    uint32_t *crtcs, *conns;

    if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res)) {
        die("GETRESOURCES: %s (not a KMS device?)", strerror(errno));
    }
    crtcs = xcalloc(res.count_crtcs, sizeof(*crtcs));
    conns = xcalloc(res.count_connectors, sizeof(*conns));
    res.crtc_id_ptr = (uintptr_t)crtcs;
    res.connector_id_ptr = (uintptr_t)conns;
    res.count_fbs = res.count_encoders = 0;
    if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res)) {
        die("GETRESOURCES: %s", strerror(errno));
    }
    if (res.count_crtcs == 0 || res.count_connectors == 0) {
        die("%u CRTCs, %u connectors", res.count_crtcs, res.count_connectors);
    }

    for (uint32_t i = 0; i < res.count_connectors; i++) {
        struct drm_mode_get_connector c = { .connector_id = conns[i] };
        struct drm_mode_modeinfo *modes;
        uint32_t *encs;
        int pick = -1;

        /* The first call (count_modes 0) also makes the kernel probe. */
        if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c)) {
            die("GETCONNECTOR %u: %s", conns[i], strerror(errno));
        }
        if (c.connection != 1 || c.count_modes == 0) {
            continue;
        }
        modes = xcalloc(c.count_modes, sizeof(*modes));
        encs = xcalloc(c.count_encoders, sizeof(*encs));
        c.modes_ptr = (uintptr_t)modes;
        c.encoders_ptr = (uintptr_t)encs;
        c.count_props = 0;
        if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &c)) {
            die("GETCONNECTOR %u: %s", conns[i], strerror(errno));
        }
        for (uint32_t m = 0; m < c.count_modes; m++) {
            if (want_w > 0) {
                if (modes[m].hdisplay == want_w &&
                    modes[m].vdisplay == want_h &&
                    (pick < 0 || (mode_preferred(&modes[m]) &&
                                  !mode_preferred(&modes[pick])))) {
                    pick = m;
                }
            } else if (pick < 0 || (mode_preferred(&modes[m]) &&
                                    !mode_preferred(&modes[pick]))) {
                pick = m;
            }
        }
        if (pick < 0) {
            uint32_t p = 0;

            while (p + 1 < c.count_modes && !mode_preferred(&modes[p])) {
                p++;
            }
            if (!mode_preferred(&modes[p])) {
                p = 0;
            }
            die("connector %u has no %dx%d mode (preferred %ux%u)", conns[i],
                want_w, want_h, modes[p].hdisplay, modes[p].vdisplay);
        }
        o->connector = conns[i];
        o->mode = modes[pick];
        o->crtc = 0;

        /* The CRTC the current encoder drives, else any it could use. */
        if (c.encoder_id) {
            struct drm_mode_get_encoder e = { .encoder_id = c.encoder_id };

            if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &e) == 0) {
                o->crtc = e.crtc_id;
            }
        }
        for (uint32_t k = 0; !o->crtc && k < c.count_encoders; k++) {
            struct drm_mode_get_encoder e = { .encoder_id = encs[k] };

            if (xioctl(fd, DRM_IOCTL_MODE_GETENCODER, &e)) {
                continue;
            }
            for (uint32_t j = 0; j < res.count_crtcs && j < 32; j++) {
                if (e.possible_crtcs & (1u << j)) {
                    o->crtc = crtcs[j];
                    break;
                }
            }
        }
        if (!o->crtc) {
            die("no CRTC for connector %u", conns[i]);
        }
        free(modes);
        free(encs);
        free(crtcs);
        free(conns);
        return;
    }
    die("no connected connector with modes");
}

static uint32_t add_fb(int fd, const struct dumb *b, uint32_t w, uint32_t h)
{
    struct drm_mode_fb_cmd2 f2 = {
        .width = w,
        .height = h,
        .pixel_format = DRM_FORMAT_XRGB8888,
        .handles = { b->handle },
        .pitches = { b->pitch },
    };
    struct drm_mode_fb_cmd f1 = {
        .width = w,
        .height = h,
        .pitch = b->pitch,
        .bpp = 32,
        .depth = 24,
        .handle = b->handle,
    };

    if (xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &f2) == 0) {
        return f2.fb_id;
    }
    if (xioctl(fd, DRM_IOCTL_MODE_ADDFB, &f1) == 0) {
        return f1.fb_id;
    }
    die("ADDFB2/ADDFB: %s", strerror(errno));
    return 0;
}

/* SIGUSR1 asks to move the cursor (see main). */
#define CURSOR_STEP_X 200
#define CURSOR_STEP_Y 100
static volatile sig_atomic_t moves_asked;

static void on_usr1(int sig)
{
    (void)sig;
    moves_asked = 1;
}

static void move_cursor(int fd, uint32_t crtc, int x, int y)
{
    struct drm_mode_cursor2 cur = {
        .flags = DRM_MODE_CURSOR_MOVE,
        .crtc_id = crtc,
        .x = x,
        .y = y,
    };

    if (xioctl(fd, DRM_IOCTL_MODE_CURSOR2, &cur)) {
        die("CURSOR2 (move): %s", strerror(errno));
    }
}

static void set_cursor(int fd, uint32_t crtc, int x, int y)
{
    struct dumb c;
    struct drm_mode_cursor2 cur = {
        .flags = DRM_MODE_CURSOR_BO,
        .crtc_id = crtc,
        .width = CURSOR_SIZE,
        .height = CURSOR_SIZE,
        .hot_x = 0,
        .hot_y = 0,
    };

    dumb_create(fd, &c, CURSOR_SIZE, CURSOR_SIZE);
    for (uint32_t y0 = 0; y0 < CURSOR_SIZE; y0++) {
        uint32_t *row = (uint32_t *)((char *)c.map + (size_t)y0 * c.pitch);

        for (uint32_t x0 = 0; x0 < CURSOR_SIZE; x0++) {
            row[x0] = cursor_pixel(x0, y0);
        }
    }
    cur.handle = c.handle;
    if (xioctl(fd, DRM_IOCTL_MODE_CURSOR2, &cur)) {
        die("CURSOR2 (set): %s", strerror(errno));
    }
    cur.flags = DRM_MODE_CURSOR_MOVE;
    cur.x = x;
    cur.y = y;
    if (xioctl(fd, DRM_IOCTL_MODE_CURSOR2, &cur)) {
        die("CURSOR2 (move): %s", strerror(errno));
    }
}

/*
 * --frames N: replace the whole framebuffer N times, alternating the
 * pattern and the pattern scrolled by one pixel (prepared once, so the
 * guest CPU does a copy, not the drawing), with a DIRTYFB after each, and
 * print the frame rate. The virtio-gpu driver waits for the host's
 * RESOURCE_FLUSH of each DIRTYFB, so this is the rate at which the host
 * takes full frames.
 */
static void bench_frames(int fd, const struct dumb *fb, uint32_t fb_id,
                         uint32_t w, uint32_t h, int frames)
{
    struct drm_clip_rect clip = { 0, 0, (unsigned short)w, (unsigned short)h };
    struct drm_mode_fb_dirty_cmd dirty = {
        .fb_id = fb_id,
        .num_clips = 1,
        .clips_ptr = (uintptr_t)&clip,
    };
    size_t size = (size_t)fb->pitch * h;
    char *img[2] = { malloc(size), malloc(size) };
    struct timespec t0, t1;

    if (!img[0] || !img[1]) {
        die("out of memory");
    }
    for (int k = 0; k < 2; k++) {
        for (uint32_t y = 0; y < h; y++) {
            uint32_t *row = (uint32_t *)(img[k] + (size_t)y * fb->pitch);

            for (uint32_t x = 0; x < w; x++) {
                row[x] = pattern_pixel((x + (uint32_t)k) % w, y, w, h);
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int f = 1; f <= frames; f++) {
        memcpy(fb->map, img[f & 1], size);
        if (xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty)) {
            die("DIRTYFB: %s", strerror(errno));
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) +
               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("drm-pattern: %d frames %ux%u in %.3f s = %.2f fps\n", frames, w, h,
           s, frames / s);
    fflush(stdout);
    free(img[0]);
    free(img[1]);
}

static int parse_int(const char *s, const char *what)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < -65536 || v > 65536) {
        die("bad %s '%s'", what, s);
    }
    return (int)v;
}

static void usage(void)
{
    fprintf(stderr, "usage: drm-pattern [--cursor X Y | --frames N] "
                    "[WIDTH HEIGHT]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int cursor = 0, cx = 0, cy = 0, want_w = 0, want_h = 0, frames = 0;
    struct drm_get_cap cap = { .capability = DRM_CAP_DUMB_BUFFER };
    struct drm_clip_rect clip;
    struct drm_mode_fb_dirty_cmd dirty = { 0 };
    struct drm_mode_crtc setcrtc = { 0 };
    struct output out;
    struct dumb fb;
    uint32_t w, h, fb_id;
    int i = 1, fd;

    if (i < argc && strcmp(argv[i], "--cursor") == 0) {
        if (argc < i + 3) {
            usage();
        }
        cursor = 1;
        cx = parse_int(argv[i + 1], "cursor x");
        cy = parse_int(argv[i + 2], "cursor y");
        i += 3;
    } else if (i < argc && strcmp(argv[i], "--frames") == 0) {
        if (argc < i + 2) {
            usage();
        }
        frames = parse_int(argv[i + 1], "frame count");
        if (frames <= 0) {
            die("--frames needs a positive count");
        }
        i += 2;
    }
    if (argc - i == 2) {
        want_w = parse_int(argv[i], "width");
        want_h = parse_int(argv[i + 1], "height");
        if (want_w <= 0 || want_h <= 0) {
            die("bad size %dx%d", want_w, want_h);
        }
    } else if (argc != i) {
        usage();
    }

    fd = open(dev_path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        die("%s: %s", dev_path, strerror(errno));
    }
    if (xioctl(fd, DRM_IOCTL_GET_CAP, &cap) || !cap.value) {
        die("%s has no dumb buffers", dev_path);
    }
    find_output(fd, want_w, want_h, &out);
    w = out.mode.hdisplay;
    h = out.mode.vdisplay;

    dumb_create(fd, &fb, w, h);
    for (uint32_t y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)((char *)fb.map + (size_t)y * fb.pitch);

        for (uint32_t x = 0; x < w; x++) {
            row[x] = pattern_pixel(x, y, w, h);
        }
    }
    fb_id = add_fb(fd, &fb, w, h);

    setcrtc.crtc_id = out.crtc;
    setcrtc.fb_id = fb_id;
    setcrtc.set_connectors_ptr = (uintptr_t)&out.connector;
    setcrtc.count_connectors = 1;
    setcrtc.mode = out.mode;
    setcrtc.mode_valid = 1;
    if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &setcrtc)) {
        die("SETCRTC crtc %u: %s", out.crtc, strerror(errno));
    }

    clip = (struct drm_clip_rect){ 0, 0, (unsigned short)w, (unsigned short)h };
    dirty.fb_id = fb_id;
    dirty.num_clips = 1;
    dirty.clips_ptr = (uintptr_t)&clip;
    if (xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty)) {
        die("DIRTYFB: %s", strerror(errno));
    }

    if (cursor) {
        set_cursor(fd, out.crtc, cx, cy);
    }
    if (frames) {
        bench_frames(fd, &fb, fb_id, w, h, frames);
        return 0;
    }

    printf("drm-pattern: connector %u crtc %u fb %u mode %s %ux%u@%u "
           "pitch %u%s\n",
           out.connector, out.crtc, fb_id, out.mode.name, w, h,
           out.mode.vrefresh, fb.pitch,
           mode_preferred(&out.mode) ? " preferred" : "");
    if (cursor) {
        printf("drm-pattern: cursor %dx%d at %d,%d\n", CURSOR_SIZE, CURSOR_SIZE,
               cx, cy);
    }
    printf("drm-pattern: ok %ux%u\n", w, h);
    fflush(stdout);

    /* Keep the device (and so the scanout) until killed; each SIGUSR1
     * moves the cursor by (CURSOR_STEP_X, CURSOR_STEP_Y). */
    signal(SIGUSR1, on_usr1);
    for (;;) {
        pause();
        if (cursor && moves_asked) {
            moves_asked = 0;
            cx += CURSOR_STEP_X;
            cy += CURSOR_STEP_Y;
            move_cursor(fd, out.crtc, cx, cy);
            printf("drm-pattern: cursor moved to %d,%d\n", cx, cy);
            fflush(stdout);
        }
    }
}
