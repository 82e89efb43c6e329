/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ui/console without a device: a fake producer blits into a
 * console, a fake backend records what the main loop tells it (resize,
 * coalesced damage, cursor), a fake input sink records keys and scaled
 * pointer positions; screendump's console lookup errors.
 */
#include <string.h>

#include "core/error.h"
#include "core/loop.h"
#include "harness.h"
#include "ui/console.h"

struct fake_backend {
    int resized, cursor_changed, cursor_moved;
    int ndamage;
    struct ui_rect last;
    pixman_region32_t damage;
};

static void fb_resized(void *opaque, struct ui_console *c)
{
    (void)c;
    ((struct fake_backend *)opaque)->resized++;
}
static void fb_damage(void *opaque, struct ui_console *c,
                      const struct ui_rect *r)
{
    (void)c;
    struct fake_backend *b = opaque;
    b->ndamage++;
    b->last = *r;
    pixman_region32_union_rect(&b->damage, &b->damage, r->x, r->y, r->w, r->h);
}
static void fb_cursor_changed(void *opaque, struct ui_console *c)
{
    (void)c;
    ((struct fake_backend *)opaque)->cursor_changed++;
}
static void fb_cursor_moved(void *opaque, struct ui_console *c)
{
    (void)c;
    ((struct fake_backend *)opaque)->cursor_moved++;
}
static const struct ui_backend_ops fb_ops = {
    .resized = fb_resized,
    .damage = fb_damage,
    .cursor_changed = fb_cursor_changed,
    .cursor_moved = fb_cursor_moved,
};

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

/* Let the main loop deliver what is queued. */
static void pump(void)
{
    loop_call(quit_cb, NULL);
    loop_run();
}

static uint32_t px(pixman_image_t *img, int x, int y)
{
    uint32_t *p = pixman_image_get_data(img);
    return p[y * (pixman_image_get_stride(img) / 4) + x] & 0xffffff;
}

static struct fake_backend fb;
static struct ui_console *con;
static uint32_t sizes[2];

static void fake_request_size(void *opaque, uint32_t head, uint32_t w,
                              uint32_t h)
{
    (void)opaque;
    CHECK_EQ(head, 3);
    sizes[0] = w;
    sizes[1] = h;
}
static const struct ui_producer_ops prod_ops = {
    .request_size = fake_request_size,
};

TEST(surface_and_damage)
{
    CHECK(ui_add_backend(&fb_ops, &fb) == 0);
    CHECK_EQ(fb.resized, 1); /* told about the existing console at once */
    ui_console_resize(con, 8, 4);
    pump();
    CHECK_EQ(fb.resized, 2);
    uint32_t w, h;
    ui_console_size(con, &w, &h);
    CHECK(w == 8 && h == 4);
    /* A 16x16 source with pixel value = (y << 8) | x. */
    pixman_image_t *src =
        pixman_image_create_bits(PIXMAN_x8r8g8b8, 16, 16, NULL, 0);
    uint32_t *d = pixman_image_get_data(src);
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 16; x++) {
            d[y * 16 + x] = (uint32_t)(y << 8 | x);
        }
    }
    /* Two blits before the loop runs: one coalesced delivery. */
    ui_console_blit(con, src, 5, 6, &(struct ui_rect){ 1, 1, 2, 2 });
    ui_console_blit(con, src, 7, 8, &(struct ui_rect){ 3, 1, 2, 2 });
    pump();
    CHECK_EQ(fb.ndamage, 1);
    CHECK(fb.last.x == 1 && fb.last.y == 1 && fb.last.w == 4 && fb.last.h == 2);
    pixman_image_t *snap = ui_console_snapshot(con);
    CHECK(snap != NULL);
    CHECK_EQ(px(snap, 1, 1), 0x0605);
    CHECK_EQ(px(snap, 2, 2), 0x0706);
    CHECK_EQ(px(snap, 3, 1), 0x0807);
    CHECK_EQ(px(snap, 0, 0), 0);
    pixman_image_unref(snap);
    /* Clipped at every edge: negative destination, past the surface,
     * past the source. Nothing outside the surface is damaged. */
    fb.ndamage = 0;
    pixman_region32_clear(&fb.damage);
    ui_console_blit(con, src, 0, 0, &(struct ui_rect){ -2, -1, 4, 3 });
    ui_console_blit(con, src, 14, 14, &(struct ui_rect){ 6, 2, 10, 10 });
    ui_console_blit(con, src, 0, 0, &(struct ui_rect){ 100, 0, 5, 5 });
    ui_console_blit(con, NULL, 0, 0, &(struct ui_rect){ 0, 0, 5, 5 });
    pump();
    pixman_box32_t *ext = pixman_region32_extents(&fb.damage);
    CHECK(ext->x1 >= 0 && ext->y1 >= 0 && ext->x2 <= 8 && ext->y2 <= 4);
    snap = ui_console_snapshot(con);
    CHECK_EQ(px(snap, 0, 0), 0x0102); /* src (2,1) */
    CHECK_EQ(px(snap, 7, 3), 0x0f0f); /* src (15,15) */
    pixman_image_unref(snap);
    /* Disabled: no surface, no snapshot, blits ignored. */
    ui_console_resize(con, 0, 0);
    ui_console_blit(con, src, 0, 0, &(struct ui_rect){ 0, 0, 5, 5 });
    pump();
    CHECK(ui_console_snapshot(con) == NULL);
    CHECK(ui_console_lock(con) == NULL);
    ui_console_unlock(con);
    pixman_image_unref(src);
}

TEST(cursor)
{
    pixman_image_t *img =
        pixman_image_create_bits(PIXMAN_a8b8g8r8, 64, 64, NULL, 0);
    uint32_t *d = pixman_image_get_data(img);
    d[0] = 0xff0000ffu; /* a8b8g8r8: opaque red */
    ui_console_set_cursor(con, img, 3, 4);
    pixman_image_unref(img);
    ui_console_move_cursor(con, -5, 7);
    pump();
    CHECK(fb.cursor_changed >= 2);
    CHECK(fb.cursor_moved >= 1);
    uint32_t hx, hy;
    int32_t x, y;
    pixman_image_t *c = ui_console_cursor(con, &hx, &hy, &x, &y);
    CHECK(c != NULL);
    CHECK(hx == 3 && hy == 4 && x == -5 && y == 7);
    CHECK_EQ(pixman_image_get_format(c), PIXMAN_a8r8g8b8);
    CHECK_EQ(((uint32_t *)pixman_image_get_data(c))[0], 0xffff0000u);
    pixman_image_unref(c);
    ui_console_set_cursor(con, NULL, 0, 0);
    CHECK(ui_console_cursor(con, &hx, &hy, &x, &y) == NULL);
}

static uint32_t keys[8], nkeys, ptr[3];
static void sink_key(void *opaque, uint32_t code, bool down)
{
    (void)opaque;
    if (nkeys < 8) {
        keys[nkeys++] = code << 1 | down;
    }
}
static void sink_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t b)
{
    (void)opaque;
    ptr[0] = x;
    ptr[1] = y;
    ptr[2] = b;
}

TEST(input_and_resize_requests)
{
    /* Keys go to the first sink with a key callback, pointer to the first
     * with a pointer callback. */
    CHECK(ui_input_add_sink(
              &(struct ui_input_sink){ .pointer = sink_pointer }) == 0);
    CHECK(ui_input_add_sink(&(struct ui_input_sink){ .key = sink_key }) == 0);
    ui_input_key(30, true);
    ui_input_key(30, false);
    CHECK(nkeys == 2 && keys[0] == (30u << 1 | 1) && keys[1] == 30u << 1);
    ui_console_resize(con, 101, 51);
    ui_input_pointer(con, 100, 50, UI_BUTTON_LEFT);
    CHECK(ptr[0] == 0x7fff && ptr[1] == 0x7fff && ptr[2] == UI_BUTTON_LEFT);
    ui_input_pointer(con, -10, 25, 0);
    CHECK(ptr[0] == 0 && ptr[1] == 0x7fff / 2 && ptr[2] == 0);
    ui_input_pointer(con, 1000, 1000, UI_BUTTON_WHEEL_UP);
    CHECK(ptr[0] == 0x7fff && ptr[1] == 0x7fff);
    ui_console_request_size(con, 1024, 768);
    CHECK(sizes[0] == 1024 && sizes[1] == 768);
}

TEST(find)
{
    struct error err = { 0 };
    CHECK(ui_console_find(NULL, -1, &err) == NULL); /* head 3 only */
    CHECK(strstr(err.msg, "Head '0'") != NULL);
    err = (struct error){ 0 };
    CHECK(ui_console_find("gpu0", 3, &err) == con);
    CHECK(ui_console_find(NULL, 3, &err) == con);
    CHECK(ui_console_find("nope", 0, &err) == NULL);
    CHECK(strstr(err.msg, "Device 'nope' not found") != NULL);
    err = (struct error){ 0 };
    CHECK(ui_console_find("gpu0", 1, &err) == NULL);
    CHECK(strstr(err.msg, "Head '1' for device 'gpu0' not found") != NULL);
    err = (struct error){ 0 };
    ui_shutdown();
    CHECK(ui_console_find(NULL, -1, &err) == NULL);
    CHECK(strstr(err.msg, "no console") != NULL);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    pixman_region32_init(&fb.damage);
    con = ui_console_new("gpu0", "virtio-gpu-device", 3, &prod_ops, NULL);
    CHECK(con != NULL);
    CHECK_EQ(ui_console_count(), 1);
    CHECK(ui_console_at(0) == con && ui_console_head(con) == 3);
    RUN(surface_and_damage);
    RUN(cursor);
    RUN(input_and_resize_requests);
    RUN(find);
    pixman_region32_fini(&fb.damage);
    HARNESS_END();
}
