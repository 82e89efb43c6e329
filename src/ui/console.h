/* SPDX-License-Identifier: MIT */
/*
 * Consoles: what the display layer shows (design.md "Display"). One
 * console per scanout of a display device (virtio-gpu head N). A console
 * owns a pixman surface of its own (PIXMAN_x8r8g8b8) that the producer
 * copies into, so backends never see a guest resource and never race with
 * the device: producers (the device, with its lock held, on any thread)
 * blit and report damage under the console's lock; damage is coalesced
 * and handed to the backends (headless/screendump, vnc, sdl) on the
 * main-loop thread. Input goes the other way: backends turn their events
 * into Linux evdev codes and absolute positions, and the router hands them
 * to the virtio keyboard and tablet that registered as sinks.
 *
 * Not here: the backends themselves (vnc.c, sdl.c), pixel formats of
 * guest resources (src/gfx), and the screendump file writers
 * (screendump.h).
 */
#ifndef SWEDE_UI_CONSOLE_H
#define SWEDE_UI_CONSOLE_H

#include <pixman.h>
#include <stdbool.h>
#include <stdint.h>

struct error;
struct ui_console;

#define UI_MAX_CONSOLES 16

/* A rectangle of a console, in pixels. */
struct ui_rect {
    int32_t x, y;
    uint32_t w, h;
};

/* ---- producer side ---- */

/* What a backend may ask of the producer. Main-loop thread. */
struct ui_producer_ops {
    /* A window or VNC client wants head `head` to be w x h (the device
     * updates its display info and tells the guest). Optional. */
    void (*request_size)(void *opaque, uint32_t head, uint32_t w, uint32_t h);
};

/* A console for head `head` of the device whose -device id is dev_id
 * (NULL without id=) and whose model is model ("virtio-gpu-device"), as
 * QMP screendump's device/head name it. NULL past UI_MAX_CONSOLES or
 * without memory. Main thread, while the board is built. */
struct ui_console *ui_console_new(const char *dev_id, const char *model,
                                  uint32_t head,
                                  const struct ui_producer_ops *ops,
                                  void *opaque);

/* The producer calls below may come from any thread; they take the
 * console lock for a bounded copy and never wait for a backend. */

/* Show a w x h surface, black (w or h 0: the output is disabled). */
void ui_console_resize(struct ui_console *c, uint32_t w, uint32_t h);
/* Copy src's rectangle at (sx, sy) of size r->w x r->h to (r->x, r->y)
 * of the console (clipped to both) and mark it damaged. */
void ui_console_blit(struct ui_console *c, pixman_image_t *src, int32_t sx,
                     int32_t sy, const struct ui_rect *r);
/* The guest's cursor: img (any pixman format; copied as a8r8g8b8) with
 * its hot spot, or NULL to hide it. */
void ui_console_set_cursor(struct ui_console *c, pixman_image_t *img,
                           uint32_t hot_x, uint32_t hot_y);
/* The cursor's hot spot moved to (x, y) in console pixels. */
void ui_console_move_cursor(struct ui_console *c, int32_t x, int32_t y);

/* ---- backend side (main-loop thread) ---- */

struct ui_backend_ops {
    /* The console's size changed or it was enabled/disabled: redraw all. */
    void (*resized)(void *opaque, struct ui_console *c);
    /* Pixels in r changed (coalesced; r is inside the surface). */
    void (*damage)(void *opaque, struct ui_console *c, const struct ui_rect *r);
    /* The cursor image or its visibility changed. */
    void (*cursor_changed)(void *opaque, struct ui_console *c);
    /* The cursor moved (ui_console_cursor() has the position). */
    void (*cursor_moved)(void *opaque, struct ui_console *c);
};

/* Register a backend; it is told resized for every console at once. At
 * most 4 backends. Main-loop thread. */
int ui_add_backend(const struct ui_backend_ops *ops, void *opaque);

unsigned ui_console_count(void);
struct ui_console *ui_console_at(unsigned i);
uint32_t ui_console_head(const struct ui_console *c);

/* The current surface (NULL while disabled), locked against the
 * producer until ui_console_unlock(). Keep the lock short: the producer
 * (the vCPU) waits for it. */
pixman_image_t *ui_console_lock(struct ui_console *c);
void ui_console_unlock(struct ui_console *c);
/* Size of the surface (0 x 0 while disabled). Any thread. */
void ui_console_size(struct ui_console *c, uint32_t *w, uint32_t *h);
/* A new reference to the cursor image (NULL when hidden; the console
 * replaces it on a change, never modifies it in place), its hot spot and
 * position. */
pixman_image_t *ui_console_cursor(struct ui_console *c, uint32_t *hot_x,
                                  uint32_t *hot_y, int32_t *x, int32_t *y);
/* Ask the producer for a new size (window resize, VNC SetDesktopSize).
 * Never with ui_console_lock() held: the producer takes the device lock,
 * and the device lock comes before a console lock. */
void ui_console_request_size(struct ui_console *c, uint32_t w, uint32_t h);

/* A copy of the surface (the caller unrefs it), or NULL if disabled. */
pixman_image_t *ui_console_snapshot(struct ui_console *c);

/* QMP screendump's choice: the console of device dev_id (its id=, or
 * NULL for the first display device) at head (-1: head 0). NULL with err
 * set as QEMU words it when there is none. Main-loop thread. */
struct ui_console *ui_console_find(const char *dev_id, int64_t head,
                                   struct error *err);

/* ---- input ---- */

/* Pointer buttons, as bits. */
#define UI_BUTTON_LEFT       (1u << 0)
#define UI_BUTTON_MIDDLE     (1u << 1)
#define UI_BUTTON_RIGHT      (1u << 2)
#define UI_BUTTON_WHEEL_UP   (1u << 3)
#define UI_BUTTON_WHEEL_DOWN (1u << 4)

struct ui_input_sink {
    /* A Linux key code (linux/input-event-codes.h) went down or up. */
    void (*key)(void *opaque, uint32_t code, bool down);
    /* Absolute pointer: x, y scaled to 0..0x7fff over the console, and
     * the buttons held (UI_BUTTON_*); wheel bits are one notch each. */
    void (*pointer)(void *opaque, uint32_t x, uint32_t y, uint32_t buttons);
    void *opaque;
};

/* Devices register as sinks when they are created (main thread); the
 * first keyboard sink gets keys, the first pointer sink gets pointer
 * events. Sinks are never removed. */
int ui_input_add_sink(const struct ui_input_sink *sink);
/* Backends, main-loop thread. */
void ui_input_key(uint32_t code, bool down);
/* Pointer at (x, y) of console c (clamped to it), buttons held. */
void ui_input_pointer(struct ui_console *c, int32_t x, int32_t y,
                      uint32_t buttons);

/* QMP send-key: press codes in order, release them in reverse order
 * hold_ms later (a main-loop timer); a batch still held when the next one
 * comes is released first. At most UI_MAX_HELD_KEYS codes. */
#define UI_MAX_HELD_KEYS 16
void ui_input_send_keys(const uint32_t *codes, unsigned n, unsigned hold_ms);
/* QMP input-send-event: the absolute pointer at (x, y) in 0..0x7fff with
 * buttons held, not tied to a console's size. */
void ui_input_pointer_abs(uint32_t x, uint32_t y, uint32_t buttons);

/* Free every console (at exit, after the backends stopped). */
void ui_shutdown(void);

#endif
