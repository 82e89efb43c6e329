/* SPDX-License-Identifier: MIT */
/*
 * Consoles, their backends and input routing (see console.h). Each
 * console's surface, cursor and pending changes are guarded by its own
 * mutex; producers add damage under it and queue one main-loop call per
 * console (an atomic flag keeps it to one), which takes the pending
 * changes and tells the backends. Lock order: the device lock, then a
 * console lock; nothing here takes the device lock, and backends are
 * called with no console lock held.
 */
#include "ui/console.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/loop.h"

#define UI_MAX_BACKENDS 4
#define UI_MAX_SINKS    8

struct ui_console {
    char *dev_id; /* NULL without id= */
    const char *model;
    uint32_t head;
    const struct ui_producer_ops *ops;
    void *opaque;

    pthread_mutex_t lock;
    pixman_image_t *surface; /* NULL: disabled */
    uint32_t w, h;
    pixman_image_t *cursor; /* a8r8g8b8 copy, NULL: hidden */
    uint32_t hot_x, hot_y;
    int32_t cur_x, cur_y;
    /* Pending for the backends. */
    pixman_region32_t damage;
    bool resized, cursor_changed, cursor_moved;
    int flush_queued; /* atomic */
};

static struct ui_console *ui_consoles[UI_MAX_CONSOLES];
static unsigned ui_nconsoles;

static struct {
    const struct ui_backend_ops *ops;
    void *opaque;
} ui_backends[UI_MAX_BACKENDS];
static unsigned ui_nbackends;

static struct ui_input_sink ui_sinks[UI_MAX_SINKS];
static unsigned ui_nsinks;

/* ---- producer side ---- */

struct ui_console *ui_console_new(const char *dev_id, const char *model,
                                  uint32_t head,
                                  const struct ui_producer_ops *ops,
                                  void *opaque)
{
    if (ui_nconsoles == UI_MAX_CONSOLES) {
        return NULL;
    }
    struct ui_console *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    if (dev_id && !(c->dev_id = strdup(dev_id))) {
        free(c);
        return NULL;
    }
    c->model = model;
    c->head = head;
    c->ops = ops;
    c->opaque = opaque;
    pthread_mutex_init(&c->lock, NULL);
    pixman_region32_init(&c->damage);
    ui_consoles[ui_nconsoles++] = c;
    return c;
}

static void ui_console_flush(void *opaque);

/* Under c->lock: make sure the backends hear of the pending changes. */
static void ui_console_kick(struct ui_console *c)
{
    if (__atomic_exchange_n(&c->flush_queued, 1, __ATOMIC_ACQ_REL) == 0) {
        loop_call(ui_console_flush, c);
    }
}

void ui_console_resize(struct ui_console *c, uint32_t w, uint32_t h)
{
    pixman_image_t *img = NULL;
    if (w && h) {
        img =
            pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w, (int)h, NULL, 0);
    }
    pthread_mutex_lock(&c->lock);
    if (c->surface) {
        pixman_image_unref(c->surface);
    }
    c->surface = img;
    c->w = img ? w : 0;
    c->h = img ? h : 0;
    pixman_region32_clear(&c->damage);
    c->resized = true;
    ui_console_kick(c);
    pthread_mutex_unlock(&c->lock);
}

/* Clip [*a, *a + *len) to [0, lim) and move *b along with *a. */
static bool ui_clip(int64_t *a, int64_t *b, int64_t *len, int64_t lim)
{
    if (*a < 0) {
        *len += *a;
        *b -= *a;
        *a = 0;
    }
    if (*a + *len > lim) {
        *len = lim - *a;
    }
    return *len > 0;
}

void ui_console_blit(struct ui_console *c, pixman_image_t *src, int32_t sx,
                     int32_t sy, const struct ui_rect *r)
{
    int64_t dx = r->x, dy = r->y, w = r->w, h = r->h, x = sx, y = sy;
    pthread_mutex_lock(&c->lock);
    if (c->surface && src && ui_clip(&dx, &x, &w, c->w) &&
        ui_clip(&dy, &y, &h, c->h) &&
        ui_clip(&x, &dx, &w, pixman_image_get_width(src)) &&
        ui_clip(&y, &dy, &h, pixman_image_get_height(src))) {
        pixman_image_composite32(PIXMAN_OP_SRC, src, NULL, c->surface,
                                 (int32_t)x, (int32_t)y, 0, 0, (int32_t)dx,
                                 (int32_t)dy, (int32_t)w, (int32_t)h);
        pixman_region32_union_rect(&c->damage, &c->damage, (int)dx, (int)dy,
                                   (unsigned)w, (unsigned)h);
        ui_console_kick(c);
    }
    pthread_mutex_unlock(&c->lock);
}

void ui_console_set_cursor(struct ui_console *c, pixman_image_t *img,
                           uint32_t hot_x, uint32_t hot_y)
{
    pixman_image_t *copy = NULL;
    if (img) {
        int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
        copy = pixman_image_create_bits(PIXMAN_a8r8g8b8, w, h, NULL, 0);
        if (copy) {
            pixman_image_composite32(PIXMAN_OP_SRC, img, NULL, copy, 0, 0, 0, 0,
                                     0, 0, w, h);
        }
    }
    pthread_mutex_lock(&c->lock);
    if (c->cursor) {
        pixman_image_unref(c->cursor);
    }
    c->cursor = copy;
    c->hot_x = hot_x;
    c->hot_y = hot_y;
    c->cursor_changed = true;
    ui_console_kick(c);
    pthread_mutex_unlock(&c->lock);
}

void ui_console_move_cursor(struct ui_console *c, int32_t x, int32_t y)
{
    pthread_mutex_lock(&c->lock);
    c->cur_x = x;
    c->cur_y = y;
    c->cursor_moved = true;
    ui_console_kick(c);
    pthread_mutex_unlock(&c->lock);
}

/* ---- backend side ---- */

static void ui_console_flush(void *opaque)
{
    struct ui_console *c = opaque;
    __atomic_store_n(&c->flush_queued, 0, __ATOMIC_RELEASE);
    pthread_mutex_lock(&c->lock);
    bool resized = c->resized, cchanged = c->cursor_changed,
         cmoved = c->cursor_moved;
    c->resized = c->cursor_changed = c->cursor_moved = false;
    pixman_region32_t dmg;
    pixman_region32_init(&dmg);
    pixman_region32_copy(&dmg, &c->damage);
    pixman_region32_clear(&c->damage);
    pthread_mutex_unlock(&c->lock);

    int n = 0;
    const pixman_box32_t *boxes = pixman_region32_rectangles(&dmg, &n);
    for (unsigned b = 0; b < ui_nbackends; b++) {
        const struct ui_backend_ops *ops = ui_backends[b].ops;
        void *op = ui_backends[b].opaque;
        if (resized && ops->resized) {
            ops->resized(op, c);
        } else if (ops->damage) {
            for (int i = 0; i < n; i++) {
                struct ui_rect r = {
                    boxes[i].x1,
                    boxes[i].y1,
                    (uint32_t)(boxes[i].x2 - boxes[i].x1),
                    (uint32_t)(boxes[i].y2 - boxes[i].y1),
                };
                ops->damage(op, c, &r);
            }
        }
        if (cchanged && ops->cursor_changed) {
            ops->cursor_changed(op, c);
        }
        if ((cmoved || cchanged) && ops->cursor_moved) {
            ops->cursor_moved(op, c);
        }
    }
    pixman_region32_fini(&dmg);
}

int ui_add_backend(const struct ui_backend_ops *ops, void *opaque)
{
    if (ui_nbackends == UI_MAX_BACKENDS) {
        return -ENOSPC;
    }
    ui_backends[ui_nbackends].ops = ops;
    ui_backends[ui_nbackends].opaque = opaque;
    ui_nbackends++;
    for (unsigned i = 0; i < ui_nconsoles; i++) {
        if (ops->resized) {
            ops->resized(opaque, ui_consoles[i]);
        }
        if (ops->cursor_changed) {
            ops->cursor_changed(opaque, ui_consoles[i]);
        }
    }
    return 0;
}

unsigned ui_console_count(void)
{
    return ui_nconsoles;
}

struct ui_console *ui_console_at(unsigned i)
{
    return i < ui_nconsoles ? ui_consoles[i] : NULL;
}

uint32_t ui_console_head(const struct ui_console *c)
{
    return c->head;
}

pixman_image_t *ui_console_lock(struct ui_console *c)
{
    pthread_mutex_lock(&c->lock);
    return c->surface;
}

void ui_console_unlock(struct ui_console *c)
{
    pthread_mutex_unlock(&c->lock);
}

void ui_console_size(struct ui_console *c, uint32_t *w, uint32_t *h)
{
    pthread_mutex_lock(&c->lock);
    *w = c->w;
    *h = c->h;
    pthread_mutex_unlock(&c->lock);
}

pixman_image_t *ui_console_cursor(struct ui_console *c, uint32_t *hot_x,
                                  uint32_t *hot_y, int32_t *x, int32_t *y)
{
    pthread_mutex_lock(&c->lock);
    pixman_image_t *img = c->cursor ? pixman_image_ref(c->cursor) : NULL;
    *hot_x = c->hot_x;
    *hot_y = c->hot_y;
    *x = c->cur_x;
    *y = c->cur_y;
    pthread_mutex_unlock(&c->lock);
    return img;
}

void ui_console_request_size(struct ui_console *c, uint32_t w, uint32_t h)
{
    if (c->ops && c->ops->request_size) {
        c->ops->request_size(c->opaque, c->head, w, h);
    }
}

pixman_image_t *ui_console_snapshot(struct ui_console *c)
{
    pthread_mutex_lock(&c->lock);
    pixman_image_t *copy = NULL;
    if (c->surface) {
        copy = pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)c->w, (int)c->h,
                                        NULL, 0);
        if (copy) {
            pixman_image_composite32(PIXMAN_OP_SRC, c->surface, NULL, copy, 0,
                                     0, 0, 0, 0, 0, (int32_t)c->w,
                                     (int32_t)c->h);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return copy;
}

struct ui_console *ui_console_find(const char *dev_id, int64_t head,
                                   struct error *err)
{
    if (head < 0) {
        head = 0;
    }
    bool dev_seen = false;
    for (unsigned i = 0; i < ui_nconsoles; i++) {
        struct ui_console *c = ui_consoles[i];
        if (dev_id && (!c->dev_id || strcmp(c->dev_id, dev_id) != 0)) {
            continue;
        }
        dev_seen = true;
        if (c->head == head) {
            return c;
        }
    }
    if (!dev_seen && dev_id) {
        err_set(err, -ENODEV, "Device '%s' not found", dev_id);
    } else if (!dev_seen) {
        err_set(err, -ENODEV, "There is no console to take a screendump from");
    } else {
        err_set(err, -ENODEV, "Head '%lld' for device '%s' not found",
                (long long)head, dev_id ? dev_id : ui_consoles[0]->model);
    }
    return NULL;
}

/* ---- input ---- */

int ui_input_add_sink(const struct ui_input_sink *sink)
{
    if (ui_nsinks == UI_MAX_SINKS) {
        return -ENOSPC;
    }
    ui_sinks[ui_nsinks++] = *sink;
    return 0;
}

void ui_input_key(uint32_t code, bool down)
{
    for (unsigned i = 0; i < ui_nsinks; i++) {
        if (ui_sinks[i].key) {
            ui_sinks[i].key(ui_sinks[i].opaque, code, down);
            return;
        }
    }
}

void ui_input_pointer(struct ui_console *c, int32_t x, int32_t y,
                      uint32_t buttons)
{
    uint32_t w, h;
    ui_console_size(c, &w, &h);
    if (w < 2 || h < 2) {
        return;
    }
    x = x < 0 ? 0 : x >= (int32_t)w ? (int32_t)w - 1 : x;
    y = y < 0 ? 0 : y >= (int32_t)h ? (int32_t)h - 1 : y;
    /* QEMU's scaling: 0..w-1 onto 0..0x7fff. */
    uint32_t ax = (uint32_t)((uint64_t)x * 0x7fff / (w - 1));
    uint32_t ay = (uint32_t)((uint64_t)y * 0x7fff / (h - 1));
    for (unsigned i = 0; i < ui_nsinks; i++) {
        if (ui_sinks[i].pointer) {
            ui_sinks[i].pointer(ui_sinks[i].opaque, ax, ay, buttons);
            return;
        }
    }
}

void ui_input_pointer_abs(uint32_t x, uint32_t y, uint32_t buttons)
{
    x = x > 0x7fff ? 0x7fff : x;
    y = y > 0x7fff ? 0x7fff : y;
    for (unsigned i = 0; i < ui_nsinks; i++) {
        if (ui_sinks[i].pointer) {
            ui_sinks[i].pointer(ui_sinks[i].opaque, x, y, buttons);
            return;
        }
    }
}

static struct {
    uint32_t codes[UI_MAX_HELD_KEYS];
    unsigned n;
    struct loop_timer *timer;
} ui_held;

static void ui_release_held(void *opaque)
{
    (void)opaque;
    while (ui_held.n) {
        ui_input_key(ui_held.codes[--ui_held.n], false);
    }
}

void ui_input_send_keys(const uint32_t *codes, unsigned n, unsigned hold_ms)
{
    if (!ui_held.timer) {
        ui_held.timer = loop_timer_new(ui_release_held, NULL);
    }
    loop_timer_cancel(ui_held.timer);
    ui_release_held(NULL);
    n = n > UI_MAX_HELD_KEYS ? UI_MAX_HELD_KEYS : n;
    for (unsigned i = 0; i < n; i++) {
        ui_input_key(codes[i], true);
        ui_held.codes[ui_held.n++] = codes[i];
    }
    if (!ui_held.timer) {
        ui_release_held(NULL); /* no memory for a timer: release now */
        return;
    }
    loop_timer_arm(ui_held.timer,
                   loop_now_ns() + (uint64_t)hold_ms * 1000 * 1000);
}

void ui_shutdown(void)
{
    if (ui_held.timer) {
        loop_timer_free(ui_held.timer);
        ui_held.timer = NULL;
        ui_held.n = 0;
    }
    for (unsigned i = 0; i < ui_nconsoles; i++) {
        struct ui_console *c = ui_consoles[i];
        loop_call_cancel(ui_console_flush, c);
        if (c->surface) {
            pixman_image_unref(c->surface);
        }
        if (c->cursor) {
            pixman_image_unref(c->cursor);
        }
        pixman_region32_fini(&c->damage);
        pthread_mutex_destroy(&c->lock);
        free(c->dev_id);
        free(c);
        ui_consoles[i] = NULL;
    }
    ui_nconsoles = 0;
    ui_nbackends = 0;
    ui_nsinks = 0;
}
