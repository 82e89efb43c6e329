/* SPDX-License-Identifier: MIT */
/*
 * A fake display device for tests/functional/test_vnc_backend.py: runs the
 * main loop with one console showing drm-pattern's test image (the C twin
 * of tests/functional/gfx_pattern.py's pattern_pixel) and the VNC backend,
 * and prints on stdout, one line each:
 *
 *   ready PORT WSPORT       listening (WSPORT -1 without websocket=)
 *   key CODE 0|1            a Linux key code went up or down
 *   pointer X Y BUTTONS     absolute 0..0x7fff, UI_BUTTON_* bits
 *   request-size HEAD W H   a client asked for a new size
 *   sync                    every command before it reached the backend
 *
 * Commands on stdin, one a line: "size W H" (new mode, pattern redrawn;
 * 0 0 disables the output), "fill X Y W H RRGGBB" (a rectangle of one
 * colour), "cursor" (drm-pattern's 64x64 cursor, hot spot 3,5),
 * "nocursor", "move X Y" (the cursor's hot spot), "sync", "quit". End of
 * input quits too.
 *
 *   vnc_fake_display [--size WxH] [--no-console] [--spec SPEC] [--follow]
 *                    [--check SPEC]
 *
 * --spec is the -vnc argument (default 127.0.0.1:100,to=199,websocket=on:
 * the first free display from 100, and its WebSocket port); --follow takes
 * every size a client asks for as the new mode; --check only prints
 * vnc_check_spec's verdict ("ok" or the error) and exits. Exit status 2
 * when the server cannot start (the error on stderr). No guest.
 */
#include <errno.h>
#include <pixman.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/error.h"
#include "core/loop.h"
#include "ui/console.h"
#include "ui/vnc.h"

#define CURSOR_SIZE 64

/* libvncserver 0.9.14 loses a client iterator (a few bytes) on every
 * accepted SetDesktopSize; not ours to fix, so LeakSanitizer is told. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:rfbGetClientIterator\n";
}

static const uint32_t bars[8] = { 0xFFFFFF, 0xFFFF00, 0x00FFFF, 0x00FF00,
                                  0xFF00FF, 0xFF0000, 0x0000FF, 0x000000 };

static struct ui_console *fake_con;
static bool fake_follow;
static char fake_line[256];
static size_t fake_len;

/* gfx_pattern.pattern_pixel: keep the two in step. */
static uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    bool left = x == 0, right = x == w - 1, top = y == 0, bottom = y == h - 1;
    if (top && left) {
        return 0xFF0000;
    }
    if (top && right) {
        return 0x00FF00;
    }
    if (bottom && left) {
        return 0x0000FF;
    }
    if (bottom && right) {
        return 0xFFFF00;
    }
    if (top || bottom || left || right) {
        return ((x + y) & 1) ? 0x000000 : 0xFFFFFF;
    }
    if (y < h / 2) {
        return bars[x * 8 / w];
    }
    if (y < h * 3 / 4) {
        uint32_t v = x * 256 / w;
        return v << 16 | v << 8 | v;
    }
    return (x & 255) << 16 | (y & 255) << 8 | ((x >> 8) & 15) << 4 |
           ((y >> 8) & 15);
}

/* gfx_pattern.cursor_pixel, as premultiplied 0xAARRGGBB. */
static uint32_t cursor_pixel(uint32_t x, uint32_t y)
{
    uint32_t last = CURSOR_SIZE - 1;
    if (x == 0 || x == last || y == 0 || y == last) {
        return 0xFFFF0000;
    }
    if (x == y) {
        return 0xFF00FF00;
    }
    if (x < 16 && y < 16) {
        return 0xFF0000FF;
    }
    if (x >= 40 && x < 56 && y >= 40 && y < 56) {
        return 0x80808080; /* half-transparent white */
    }
    return 0;
}

/* Blit an image of w x h pixels of colour px(x, y) at (x0, y0). */
static void fake_blit(int32_t x0, int32_t y0, uint32_t w, uint32_t h,
                      uint32_t fw, uint32_t fh, int fill, uint32_t rgb)
{
    pixman_image_t *img =
        pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w, (int)h, NULL, 0);
    if (!img) {
        return;
    }
    uint32_t *px = pixman_image_get_data(img);
    size_t stride = (size_t)pixman_image_get_stride(img) / 4;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            px[y * stride + x] = fill ? rgb : pattern_pixel(x, y, fw, fh);
        }
    }
    struct ui_rect r = { x0, y0, w, h };
    ui_console_blit(fake_con, img, 0, 0, &r);
    pixman_image_unref(img);
}

/* A new mode: the producer's order, resize then blit everything. */
static void fake_show(uint32_t w, uint32_t h)
{
    ui_console_resize(fake_con, w, h);
    if (w && h) {
        fake_blit(0, 0, w, h, w, h, 0, 0);
    }
}

static void fake_cursor(bool on)
{
    if (!on) {
        ui_console_set_cursor(fake_con, NULL, 0, 0);
        return;
    }
    pixman_image_t *img = pixman_image_create_bits(PIXMAN_a8r8g8b8, CURSOR_SIZE,
                                                   CURSOR_SIZE, NULL, 0);
    if (!img) {
        return;
    }
    uint32_t *px = pixman_image_get_data(img);
    for (uint32_t y = 0; y < CURSOR_SIZE; y++) {
        for (uint32_t x = 0; x < CURSOR_SIZE; x++) {
            px[y * CURSOR_SIZE + x] = cursor_pixel(x, y);
        }
    }
    ui_console_set_cursor(fake_con, img, 3, 5);
    pixman_image_unref(img);
}

static void fake_request_size(void *opaque, uint32_t head, uint32_t w,
                              uint32_t h)
{
    (void)opaque;
    printf("request-size %u %u %u\n", head, w, h);
    fflush(stdout);
    if (fake_follow) {
        fake_show(w, h);
    }
}

static const struct ui_producer_ops fake_producer = {
    .request_size = fake_request_size,
};

static void fake_key(void *opaque, uint32_t code, bool down)
{
    (void)opaque;
    printf("key %u %d\n", code, down);
    fflush(stdout);
}

static void fake_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t buttons)
{
    (void)opaque;
    printf("pointer %u %u %u\n", x, y, buttons);
    fflush(stdout);
}

/* Queued behind the console's own deferred call, so it runs after the
 * backends heard of everything before it. */
static void fake_sync(void *opaque)
{
    (void)opaque;
    printf("sync\n");
    fflush(stdout);
}

static void fake_command(const char *line)
{
    unsigned w, h, rgb;
    int x, y;
    if (sscanf(line, "size %u %u", &w, &h) == 2 && fake_con) {
        fake_show(w, h);
    } else if (sscanf(line, "fill %d %d %u %u %x", &x, &y, &w, &h, &rgb) == 5 &&
               fake_con) {
        fake_blit(x, y, w, h, w, h, 1, rgb);
    } else if (strcmp(line, "cursor") == 0 && fake_con) {
        fake_cursor(true);
    } else if (strcmp(line, "nocursor") == 0 && fake_con) {
        fake_cursor(false);
    } else if (sscanf(line, "move %d %d", &x, &y) == 2 && fake_con) {
        ui_console_move_cursor(fake_con, x, y);
    } else if (strcmp(line, "sync") == 0) {
        loop_call(fake_sync, NULL);
    } else if (strcmp(line, "quit") == 0) {
        loop_quit();
    } else {
        fprintf(stderr, "vnc_fake_display: unknown command '%s'\n", line);
    }
}

static void fake_stdin(void *opaque, uint32_t events)
{
    (void)opaque;
    (void)events;
    char buf[256];
    ssize_t n = read(0, buf, sizeof(buf));
    if (n <= 0) {
        if (n == 0 || errno != EAGAIN) {
            loop_del_fd(0);
            loop_quit();
        }
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            fake_line[fake_len] = '\0';
            fake_command(fake_line);
            fake_len = 0;
        } else if (fake_len < sizeof(fake_line) - 1) {
            fake_line[fake_len++] = buf[i];
        }
    }
}

int main(int argc, char **argv)
{
    const char *spec = "127.0.0.1:100,to=199,websocket=on";
    uint32_t w = 640, h = 480;
    bool console = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--size") == 0 && v && sscanf(v, "%ux%u", &w, &h) == 2) {
            i++;
        } else if (strcmp(a, "--no-console") == 0) {
            console = false;
        } else if (strcmp(a, "--spec") == 0 && v) {
            spec = v;
            i++;
        } else if (strcmp(a, "--follow") == 0) {
            fake_follow = true;
        } else if (strcmp(a, "--check") == 0 && v) {
            struct error err = { 0 };
            if (vnc_check_spec(v, "-vnc", &err) < 0) {
                printf("%s\n", err.msg);
                return 1;
            }
            printf("ok\n");
            return 0;
        } else {
            fprintf(stderr, "vnc_fake_display: bad argument '%s'\n", a);
            return 1;
        }
    }

    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    static const struct ui_input_sink sink = {
        .key = fake_key,
        .pointer = fake_pointer,
    };
    ui_input_add_sink(&sink);
    if (console) {
        fake_con =
            ui_console_new(NULL, "virtio-gpu-device", 0, &fake_producer, NULL);
        fake_show(w, h);
    }
    if (vnc_start(spec, "-vnc", &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        ui_shutdown();
        return 2;
    }
    loop_add_fd(0, EPOLLIN, fake_stdin, NULL);
    printf("ready %d %d\n", vnc_port(), vnc_websocket_port());
    fflush(stdout);
    loop_run();
    loop_del_fd(0);
    vnc_stop();
    ui_shutdown();
    return 0;
}
