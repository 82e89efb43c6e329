/* SPDX-License-Identifier: MIT */
/*
 * A fake display device for tests/functional/test_sdl_backend.py: runs the
 * main loop with one console showing drm-pattern's test image (the C twin
 * of tests/functional/gfx_pattern.py's pattern_pixel) and the SDL backend,
 * and prints what reaches the input sinks and the producer, one line
 * each, on stdout:
 *
 *   ready                   the window is open
 *   key CODE 0|1            a Linux key code went up or down
 *   pointer X Y BUTTONS     absolute 0..0x7fff, UI_BUTTON_* bits
 *   request-size HEAD W H   the window asked for a new size
 *   runstate quit           the backend asked swede to quit (then exits)
 *
 * Commands on stdin, one a line: "size W H" (new mode, pattern redrawn;
 * 0 0 disables the output), "fill X Y W H RRGGBB" (blit a solid
 * rectangle: partial damage), "cursor" (drm-pattern's 64x64 cursor, hot
 * spot 3,5), "nocursor", "quit". End of input quits too.
 *
 *   sdl_fake_display [--size WxH] [--no-console] [--name NAME]
 *                    [--spec SPEC] [--follow] [--check SPEC]
 *
 * --follow takes every size the window asks for as the new mode; --check
 * only prints sdl_check_spec's verdict ("ok" or the error) and exits.
 * Exit status 2 when the window cannot open (the error on stderr). Not a
 * test by itself and no guest.
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
#include "core/runstate.h"
#include "ui/console.h"
#include "ui/sdl.h"

#define CURSOR_SIZE 64

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

/* gfx_pattern.cursor_pixel, as 0xAARRGGBB. */
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
        return 0x80808080; /* premultiplied half-transparent white */
    }
    return 0;
}

/* A new mode: the producer's order, resize then blit everything. */
static void fake_show(uint32_t w, uint32_t h)
{
    ui_console_resize(fake_con, w, h);
    if (!w || !h) {
        return;
    }
    pixman_image_t *img =
        pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w, (int)h, NULL, 0);
    if (!img) {
        return;
    }
    uint32_t *px = pixman_image_get_data(img);
    size_t stride = (size_t)pixman_image_get_stride(img) / 4;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            px[y * stride + x] = pattern_pixel(x, y, w, h);
        }
    }
    struct ui_rect r = { 0, 0, w, h };
    ui_console_blit(fake_con, img, 0, 0, &r);
    pixman_image_unref(img);
}

static void fake_fill(int32_t x, int32_t y, uint32_t w, uint32_t h,
                      uint32_t rgb)
{
    pixman_image_t *img =
        pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w, (int)h, NULL, 0);
    if (!img) {
        return;
    }
    uint32_t *px = pixman_image_get_data(img);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        px[i] = rgb;
    }
    struct ui_rect r = { x, y, w, h };
    ui_console_blit(fake_con, img, 0, 0, &r);
    pixman_image_unref(img);
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

static void fake_command(const char *line)
{
    unsigned w, h, rgb;
    int x, y;
    if (sscanf(line, "size %u %u", &w, &h) == 2 && fake_con) {
        fake_show(w, h);
    } else if (sscanf(line, "fill %d %d %u %u %x", &x, &y, &w, &h, &rgb) == 5 &&
               fake_con && w && h && w <= 4096 && h <= 4096) {
        fake_fill(x, y, w, h, rgb);
    } else if (strcmp(line, "cursor") == 0 && fake_con) {
        fake_cursor(true);
    } else if (strcmp(line, "nocursor") == 0 && fake_con) {
        fake_cursor(false);
    } else if (strcmp(line, "quit") == 0) {
        loop_quit();
    } else {
        fprintf(stderr, "sdl_fake_display: unknown command '%s'\n", line);
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

/* What main.c does with a quit request, reduced to a line. */
static struct loop_timer *fake_rt;

static void fake_runstate(void *opaque)
{
    (void)opaque;
    int code = 0;
    if (runstate_pending() && runstate_take(&code) == RUNSTATE_REQ_QUIT) {
        printf("runstate quit\n");
        fflush(stdout);
        loop_quit();
        return;
    }
    loop_timer_arm(fake_rt, loop_now_ns() + 50000000u);
}

int main(int argc, char **argv)
{
    const char *spec = "sdl", *name = NULL;
    uint32_t w = 640, h = 480;
    bool console = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--size") == 0 && v && sscanf(v, "%ux%u", &w, &h) == 2) {
            i++;
        } else if (strcmp(a, "--no-console") == 0) {
            console = false;
        } else if (strcmp(a, "--name") == 0 && v) {
            name = v;
            i++;
        } else if (strcmp(a, "--spec") == 0 && v) {
            spec = v;
            i++;
        } else if (strcmp(a, "--follow") == 0) {
            fake_follow = true;
        } else if (strcmp(a, "--check") == 0 && v) {
            struct error err = { 0 };
            if (sdl_check_spec(v, "-display", &err) < 0) {
                printf("%s\n", err.msg);
                return 1;
            }
            printf("ok\n");
            return 0;
        } else {
            fprintf(stderr, "sdl_fake_display: bad argument '%s'\n", a);
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
    if (sdl_start(spec, name, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        ui_shutdown();
        return 2;
    }
    loop_add_fd(0, EPOLLIN, fake_stdin, NULL);
    fake_rt = loop_timer_new(fake_runstate, NULL);
    if (fake_rt) {
        loop_timer_arm(fake_rt, loop_now_ns());
    }
    printf("ready\n");
    fflush(stdout);
    loop_run();
    loop_del_fd(0);
    loop_timer_free(fake_rt);
    sdl_stop();
    ui_shutdown();
    return 0;
}
