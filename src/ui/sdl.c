/* SPDX-License-Identifier: MIT */
/*
 * The SDL2 window (see sdl.h). Console updates arrive as backend callbacks
 * on the main-loop thread: damage is gathered into a region and uploaded
 * (SDL_UpdateTexture of the damaged rectangles, under the console lock) by
 * one deferred "service" step that also renders, presents (at most 60
 * times a second) and then drains SDL's events. SDL has no pollable fd in
 * general, but with the X11 video driver every event comes through the X
 * connection: that fd is watched in the loop, and since Xlib only reads
 * from it inside SDL calls and every path that calls SDL ends by draining
 * SDL_PollEvent until empty (which also empties Xlib's queue), no event
 * can wait in a queue while the loop sleeps; an idle window costs one
 * wakeup a second. Other video drivers (Wayland, KMS/DRM) are polled by a
 * 60 Hz loop timer while the window exists. The guest cursor becomes an SDL
 * colour cursor, as QEMU's sdl2 does: the host then draws it where the
 * host pointer is, with no guest round trip, and it is the absolute
 * pointer the guest follows. Without a guest cursor the host cursor is
 * hidden over the window unless show-cursor=on.
 *
 * Not here: keyboard/mouse grabs, relative mouse mode, hotkeys, text
 * input (keys are sent as scancodes; the guest applies its own layout).
 */
#include "ui/sdl.h"

#include <SDL.h>
#include <SDL_syswm.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/runstate.h"
#include "ui/console.h"

#define WIN_FRAME_NS     16666667u   /* at most 60 presents a second */
#define WIN_POLL_NS      16666667u   /* event polling without an X fd */
#define WIN_TICK_NS      1000000000u /* with one: see sdl_watch_events */
#define WIN_REQ_DELAY_NS 200000000u  /* settle time before request_size */
#define WIN_BLANK_W      640
#define WIN_BLANK_H      480
#define WIN_MAX_NOTCHES  16 /* wheel notches taken from one event */
#define WIN_KEY_BITS     (KEY_MAX + 1)

static struct {
    bool started;    /* between sdl_start and sdl_stop */
    bool registered; /* ui_add_backend done; it cannot be undone */
    bool window_close, show_cursor;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    uint32_t tw, th;        /* texture (= console) size, 0 x 0 without */
    struct ui_console *con; /* NULL: a blank window */
    SDL_Cursor *cursor;     /* the guest's, NULL while it has none */

    int x11_fd; /* -1: events are polled by poll_timer */
    uint64_t poll_ns;
    struct loop_timer *poll_timer, *frame_timer, *req_timer;
    bool service_queued;
    bool dirty; /* the window needs a new frame */
    uint64_t last_frame;
    pixman_region32_t damage; /* console pixels not yet in the texture */
    uint32_t req_w, req_h;    /* window size to ask the guest for */

    uint32_t buttons; /* UI_BUTTON_{LEFT,MIDDLE,RIGHT} held */
    int32_t px, py;   /* last pointer position, console pixels */
    uint8_t keys[WIN_KEY_BITS / 8];
} sdl = { .x11_fd = -1 };

/* ---- keyboard map: SDL scancodes are USB HID usages ---- */

static const uint16_t sdl_keymap[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = KEY_A,
    [SDL_SCANCODE_B] = KEY_B,
    [SDL_SCANCODE_C] = KEY_C,
    [SDL_SCANCODE_D] = KEY_D,
    [SDL_SCANCODE_E] = KEY_E,
    [SDL_SCANCODE_F] = KEY_F,
    [SDL_SCANCODE_G] = KEY_G,
    [SDL_SCANCODE_H] = KEY_H,
    [SDL_SCANCODE_I] = KEY_I,
    [SDL_SCANCODE_J] = KEY_J,
    [SDL_SCANCODE_K] = KEY_K,
    [SDL_SCANCODE_L] = KEY_L,
    [SDL_SCANCODE_M] = KEY_M,
    [SDL_SCANCODE_N] = KEY_N,
    [SDL_SCANCODE_O] = KEY_O,
    [SDL_SCANCODE_P] = KEY_P,
    [SDL_SCANCODE_Q] = KEY_Q,
    [SDL_SCANCODE_R] = KEY_R,
    [SDL_SCANCODE_S] = KEY_S,
    [SDL_SCANCODE_T] = KEY_T,
    [SDL_SCANCODE_U] = KEY_U,
    [SDL_SCANCODE_V] = KEY_V,
    [SDL_SCANCODE_W] = KEY_W,
    [SDL_SCANCODE_X] = KEY_X,
    [SDL_SCANCODE_Y] = KEY_Y,
    [SDL_SCANCODE_Z] = KEY_Z,
    [SDL_SCANCODE_1] = KEY_1,
    [SDL_SCANCODE_2] = KEY_2,
    [SDL_SCANCODE_3] = KEY_3,
    [SDL_SCANCODE_4] = KEY_4,
    [SDL_SCANCODE_5] = KEY_5,
    [SDL_SCANCODE_6] = KEY_6,
    [SDL_SCANCODE_7] = KEY_7,
    [SDL_SCANCODE_8] = KEY_8,
    [SDL_SCANCODE_9] = KEY_9,
    [SDL_SCANCODE_0] = KEY_0,
    [SDL_SCANCODE_RETURN] = KEY_ENTER,
    [SDL_SCANCODE_ESCAPE] = KEY_ESC,
    [SDL_SCANCODE_BACKSPACE] = KEY_BACKSPACE,
    [SDL_SCANCODE_TAB] = KEY_TAB,
    [SDL_SCANCODE_SPACE] = KEY_SPACE,
    [SDL_SCANCODE_MINUS] = KEY_MINUS,
    [SDL_SCANCODE_EQUALS] = KEY_EQUAL,
    [SDL_SCANCODE_LEFTBRACKET] = KEY_LEFTBRACE,
    [SDL_SCANCODE_RIGHTBRACKET] = KEY_RIGHTBRACE,
    [SDL_SCANCODE_BACKSLASH] = KEY_BACKSLASH,
    /* ISO keyboards' key left of Enter: the same key position as ANSI's
     * backslash, which is how Linux and QEMU see it. */
    [SDL_SCANCODE_NONUSHASH] = KEY_BACKSLASH,
    [SDL_SCANCODE_SEMICOLON] = KEY_SEMICOLON,
    [SDL_SCANCODE_APOSTROPHE] = KEY_APOSTROPHE,
    [SDL_SCANCODE_GRAVE] = KEY_GRAVE,
    [SDL_SCANCODE_COMMA] = KEY_COMMA,
    [SDL_SCANCODE_PERIOD] = KEY_DOT,
    [SDL_SCANCODE_SLASH] = KEY_SLASH,
    [SDL_SCANCODE_CAPSLOCK] = KEY_CAPSLOCK,
    [SDL_SCANCODE_F1] = KEY_F1,
    [SDL_SCANCODE_F2] = KEY_F2,
    [SDL_SCANCODE_F3] = KEY_F3,
    [SDL_SCANCODE_F4] = KEY_F4,
    [SDL_SCANCODE_F5] = KEY_F5,
    [SDL_SCANCODE_F6] = KEY_F6,
    [SDL_SCANCODE_F7] = KEY_F7,
    [SDL_SCANCODE_F8] = KEY_F8,
    [SDL_SCANCODE_F9] = KEY_F9,
    [SDL_SCANCODE_F10] = KEY_F10,
    [SDL_SCANCODE_F11] = KEY_F11,
    [SDL_SCANCODE_F12] = KEY_F12,
    [SDL_SCANCODE_PRINTSCREEN] = KEY_SYSRQ,
    [SDL_SCANCODE_SCROLLLOCK] = KEY_SCROLLLOCK,
    [SDL_SCANCODE_PAUSE] = KEY_PAUSE,
    [SDL_SCANCODE_INSERT] = KEY_INSERT,
    [SDL_SCANCODE_HOME] = KEY_HOME,
    [SDL_SCANCODE_PAGEUP] = KEY_PAGEUP,
    [SDL_SCANCODE_DELETE] = KEY_DELETE,
    [SDL_SCANCODE_END] = KEY_END,
    [SDL_SCANCODE_PAGEDOWN] = KEY_PAGEDOWN,
    [SDL_SCANCODE_RIGHT] = KEY_RIGHT,
    [SDL_SCANCODE_LEFT] = KEY_LEFT,
    [SDL_SCANCODE_DOWN] = KEY_DOWN,
    [SDL_SCANCODE_UP] = KEY_UP,
    [SDL_SCANCODE_NUMLOCKCLEAR] = KEY_NUMLOCK,
    [SDL_SCANCODE_KP_DIVIDE] = KEY_KPSLASH,
    [SDL_SCANCODE_KP_MULTIPLY] = KEY_KPASTERISK,
    [SDL_SCANCODE_KP_MINUS] = KEY_KPMINUS,
    [SDL_SCANCODE_KP_PLUS] = KEY_KPPLUS,
    [SDL_SCANCODE_KP_ENTER] = KEY_KPENTER,
    [SDL_SCANCODE_KP_1] = KEY_KP1,
    [SDL_SCANCODE_KP_2] = KEY_KP2,
    [SDL_SCANCODE_KP_3] = KEY_KP3,
    [SDL_SCANCODE_KP_4] = KEY_KP4,
    [SDL_SCANCODE_KP_5] = KEY_KP5,
    [SDL_SCANCODE_KP_6] = KEY_KP6,
    [SDL_SCANCODE_KP_7] = KEY_KP7,
    [SDL_SCANCODE_KP_8] = KEY_KP8,
    [SDL_SCANCODE_KP_9] = KEY_KP9,
    [SDL_SCANCODE_KP_0] = KEY_KP0,
    [SDL_SCANCODE_KP_PERIOD] = KEY_KPDOT,
    [SDL_SCANCODE_NONUSBACKSLASH] = KEY_102ND,
    [SDL_SCANCODE_APPLICATION] = KEY_COMPOSE,
    [SDL_SCANCODE_POWER] = KEY_POWER,
    [SDL_SCANCODE_KP_EQUALS] = KEY_KPEQUAL,
    [SDL_SCANCODE_F13] = KEY_F13,
    [SDL_SCANCODE_F14] = KEY_F14,
    [SDL_SCANCODE_F15] = KEY_F15,
    [SDL_SCANCODE_F16] = KEY_F16,
    [SDL_SCANCODE_F17] = KEY_F17,
    [SDL_SCANCODE_F18] = KEY_F18,
    [SDL_SCANCODE_F19] = KEY_F19,
    [SDL_SCANCODE_F20] = KEY_F20,
    [SDL_SCANCODE_F21] = KEY_F21,
    [SDL_SCANCODE_F22] = KEY_F22,
    [SDL_SCANCODE_F23] = KEY_F23,
    [SDL_SCANCODE_F24] = KEY_F24,
    [SDL_SCANCODE_EXECUTE] = KEY_OPEN,
    [SDL_SCANCODE_HELP] = KEY_HELP,
    [SDL_SCANCODE_MENU] = KEY_MENU,
    [SDL_SCANCODE_SELECT] = KEY_FRONT,
    [SDL_SCANCODE_STOP] = KEY_STOP,
    [SDL_SCANCODE_AGAIN] = KEY_AGAIN,
    [SDL_SCANCODE_UNDO] = KEY_UNDO,
    [SDL_SCANCODE_CUT] = KEY_CUT,
    [SDL_SCANCODE_COPY] = KEY_COPY,
    [SDL_SCANCODE_PASTE] = KEY_PASTE,
    [SDL_SCANCODE_FIND] = KEY_FIND,
    [SDL_SCANCODE_MUTE] = KEY_MUTE,
    [SDL_SCANCODE_VOLUMEUP] = KEY_VOLUMEUP,
    [SDL_SCANCODE_VOLUMEDOWN] = KEY_VOLUMEDOWN,
    [SDL_SCANCODE_KP_COMMA] = KEY_KPCOMMA,
    [SDL_SCANCODE_INTERNATIONAL1] = KEY_RO,
    [SDL_SCANCODE_INTERNATIONAL2] = KEY_KATAKANAHIRAGANA,
    [SDL_SCANCODE_INTERNATIONAL3] = KEY_YEN,
    [SDL_SCANCODE_INTERNATIONAL4] = KEY_HENKAN,
    [SDL_SCANCODE_INTERNATIONAL5] = KEY_MUHENKAN,
    [SDL_SCANCODE_INTERNATIONAL6] = KEY_KPJPCOMMA,
    [SDL_SCANCODE_LANG1] = KEY_HANGEUL,
    [SDL_SCANCODE_LANG2] = KEY_HANJA,
    [SDL_SCANCODE_LANG3] = KEY_KATAKANA,
    [SDL_SCANCODE_LANG4] = KEY_HIRAGANA,
    [SDL_SCANCODE_LANG5] = KEY_ZENKAKUHANKAKU,
    [SDL_SCANCODE_SYSREQ] = KEY_SYSRQ,
    [SDL_SCANCODE_KP_LEFTPAREN] = KEY_KPLEFTPAREN,
    [SDL_SCANCODE_KP_RIGHTPAREN] = KEY_KPRIGHTPAREN,
    [SDL_SCANCODE_LCTRL] = KEY_LEFTCTRL,
    [SDL_SCANCODE_LSHIFT] = KEY_LEFTSHIFT,
    [SDL_SCANCODE_LALT] = KEY_LEFTALT,
    [SDL_SCANCODE_LGUI] = KEY_LEFTMETA,
    [SDL_SCANCODE_RCTRL] = KEY_RIGHTCTRL,
    [SDL_SCANCODE_RSHIFT] = KEY_RIGHTSHIFT,
    [SDL_SCANCODE_RALT] = KEY_RIGHTALT,
    [SDL_SCANCODE_RGUI] = KEY_RIGHTMETA,
    /* AltGr where X reports it as Mode_switch by keysym. */
    [SDL_SCANCODE_MODE] = KEY_RIGHTALT,
    [SDL_SCANCODE_AUDIONEXT] = KEY_NEXTSONG,
    [SDL_SCANCODE_AUDIOPREV] = KEY_PREVIOUSSONG,
    [SDL_SCANCODE_AUDIOSTOP] = KEY_STOPCD,
    [SDL_SCANCODE_AUDIOPLAY] = KEY_PLAYPAUSE,
    [SDL_SCANCODE_AUDIOMUTE] = KEY_MUTE,
    [SDL_SCANCODE_MEDIASELECT] = KEY_MEDIA,
    [SDL_SCANCODE_WWW] = KEY_WWW,
    [SDL_SCANCODE_MAIL] = KEY_MAIL,
    [SDL_SCANCODE_CALCULATOR] = KEY_CALC,
    [SDL_SCANCODE_COMPUTER] = KEY_COMPUTER,
    [SDL_SCANCODE_AC_SEARCH] = KEY_SEARCH,
    [SDL_SCANCODE_AC_HOME] = KEY_HOMEPAGE,
    [SDL_SCANCODE_AC_BACK] = KEY_BACK,
    [SDL_SCANCODE_AC_FORWARD] = KEY_FORWARD,
    [SDL_SCANCODE_AC_STOP] = KEY_STOP,
    [SDL_SCANCODE_AC_REFRESH] = KEY_REFRESH,
    [SDL_SCANCODE_AC_BOOKMARKS] = KEY_BOOKMARKS,
    [SDL_SCANCODE_BRIGHTNESSDOWN] = KEY_BRIGHTNESSDOWN,
    [SDL_SCANCODE_BRIGHTNESSUP] = KEY_BRIGHTNESSUP,
    [SDL_SCANCODE_DISPLAYSWITCH] = KEY_SWITCHVIDEOMODE,
    [SDL_SCANCODE_KBDILLUMTOGGLE] = KEY_KBDILLUMTOGGLE,
    [SDL_SCANCODE_KBDILLUMDOWN] = KEY_KBDILLUMDOWN,
    [SDL_SCANCODE_KBDILLUMUP] = KEY_KBDILLUMUP,
    [SDL_SCANCODE_EJECT] = KEY_EJECTCD,
    [SDL_SCANCODE_SLEEP] = KEY_SLEEP,
    [SDL_SCANCODE_AUDIOREWIND] = KEY_REWIND,
    [SDL_SCANCODE_AUDIOFASTFORWARD] = KEY_FASTFORWARD,
};

uint32_t sdl_scancode_to_linux(int scancode)
{
    if (scancode < 0 || scancode >= SDL_NUM_SCANCODES) {
        return 0;
    }
    return sdl_keymap[scancode];
}

/* ---- options ---- */

static int sdl_parse(const char *spec, const char *optname, bool *window_close,
                     bool *show_cursor, struct error *err)
{
    static const char *const known[] = { "type", "window-close", "show-cursor",
                                         NULL };
    char name[256];
    snprintf(name, sizeof(name), "%s %s", optname ? optname : "-display", spec);
    struct opts o = { 0 };
    int ret = opts_parse(&o, spec, "type", name, err);
    if (ret < 0) {
        return ret;
    }
    const char *type = opts_get(&o, "type");
    if (!type || strcmp(type, "sdl") != 0) {
        ret = err_set(err, -EINVAL, "%s: not an sdl display", name);
    }
    if (ret == 0) {
        ret = opts_check_known(&o, known, name, err);
    }
    if (ret == 0) {
        ret = opts_get_bool(&o, "window-close", true, window_close, name, err);
    }
    if (ret == 0) {
        ret = opts_get_bool(&o, "show-cursor", false, show_cursor, name, err);
    }
    opts_free(&o);
    return ret;
}

int sdl_check_spec(const char *spec, const char *optname, struct error *err)
{
    bool wc, sc;
    return sdl_parse(spec, optname, &wc, &sc, err);
}

/* ---- drawing ---- */

static void sdl_service(void *opaque);

/* Render, present and drain events soon: every path that calls SDL ends
 * here (see the top of the file). */
static void sdl_service_soon(void)
{
    if (!sdl.service_queued) {
        sdl.service_queued = true;
        loop_call(sdl_service, NULL);
    }
}

/* Where the console goes in the renderer's output: all of it at 1:1,
 * else scaled to fit with its aspect kept, centred. */
static SDL_Rect sdl_dest(int ow, int oh)
{
    SDL_Rect r = { 0, 0, ow, oh };
    if (!sdl.tw || !sdl.th || ow <= 0 || oh <= 0 ||
        ((uint32_t)ow == sdl.tw && (uint32_t)oh == sdl.th)) {
        return r;
    }
    if ((uint64_t)ow * sdl.th <= (uint64_t)oh * sdl.tw) {
        r.h = (int)((uint64_t)ow * sdl.th / sdl.tw);
    } else {
        r.w = (int)((uint64_t)oh * sdl.tw / sdl.th);
    }
    r.w = r.w < 1 ? 1 : r.w;
    r.h = r.h < 1 ? 1 : r.h;
    r.x = (ow - r.w) / 2;
    r.y = (oh - r.h) / 2;
    return r;
}

/* Copy the damaged console pixels into the texture. */
static void sdl_upload(void)
{
    if (!pixman_region32_not_empty(&sdl.damage)) {
        return;
    }
    if (sdl.tex && sdl.con) {
        pixman_image_t *surf = ui_console_lock(sdl.con);
        /* A resize may be on its way: then a resized callback follows
         * and uploads everything. */
        if (surf && (uint32_t)pixman_image_get_width(surf) == sdl.tw &&
            (uint32_t)pixman_image_get_height(surf) == sdl.th) {
            const uint8_t *bits = (const uint8_t *)pixman_image_get_data(surf);
            int stride = pixman_image_get_stride(surf);
            pixman_region32_intersect_rect(&sdl.damage, &sdl.damage, 0, 0,
                                           sdl.tw, sdl.th);
            int n = 0;
            const pixman_box32_t *b =
                pixman_region32_rectangles(&sdl.damage, &n);
            for (int i = 0; i < n; i++) {
                SDL_Rect r = { b[i].x1, b[i].y1, b[i].x2 - b[i].x1,
                               b[i].y2 - b[i].y1 };
                SDL_UpdateTexture(sdl.tex, &r,
                                  bits + (size_t)r.y * (size_t)stride +
                                      (size_t)r.x * 4,
                                  stride);
            }
        }
        ui_console_unlock(sdl.con);
    }
    pixman_region32_clear(&sdl.damage);
}

static void sdl_frame(void)
{
    sdl_upload();
    SDL_SetRenderDrawColor(sdl.ren, 0, 0, 0, 255);
    SDL_RenderClear(sdl.ren);
    if (sdl.tex) {
        int ow = 0, oh = 0;
        SDL_GetRendererOutputSize(sdl.ren, &ow, &oh);
        SDL_Rect d = sdl_dest(ow, oh);
        bool one = (uint32_t)d.w == sdl.tw && (uint32_t)d.h == sdl.th;
        SDL_SetTextureScaleMode(sdl.tex, one ? SDL_ScaleModeNearest
                                             : SDL_ScaleModeLinear);
        SDL_RenderCopy(sdl.ren, sdl.tex, NULL, &d);
    }
    SDL_RenderPresent(sdl.ren);
}

/* ---- input ---- */

static bool sdl_key_held(uint32_t code)
{
    return sdl.keys[code / 8] & (1u << (code % 8));
}

static void sdl_key(int scancode, bool down)
{
    uint32_t code = sdl_scancode_to_linux(scancode);
    if (!code || code >= WIN_KEY_BITS) {
        return;
    }
    if (down) {
        /* Auto-repeat comes as more downs, as from a real keyboard. */
        sdl.keys[code / 8] |= (uint8_t)(1u << (code % 8));
    } else if (sdl_key_held(code)) {
        sdl.keys[code / 8] &= (uint8_t) ~(1u << (code % 8));
    } else {
        return; /* released after the focus left: already sent up */
    }
    ui_input_key(code, down);
}

/* Focus went elsewhere: the guest must not see keys stuck down. */
static void sdl_release_keys(void)
{
    for (uint32_t code = 0; code < WIN_KEY_BITS; code++) {
        if (sdl_key_held(code)) {
            sdl.keys[code / 8] &= (uint8_t) ~(1u << (code % 8));
            ui_input_key(code, false);
        }
    }
}

/* Window coordinates to console pixels, through the scaling. */
static void sdl_pointer_at(int wx, int wy)
{
    int ww = 0, wh = 0, ow = 0, oh = 0;
    SDL_GetWindowSize(sdl.win, &ww, &wh);
    SDL_GetRendererOutputSize(sdl.ren, &ow, &oh);
    if (ww <= 0 || wh <= 0 || !sdl.tw || !sdl.th) {
        return;
    }
    /* Output pixels may differ from window units (high-DPI). */
    int64_t ox = (int64_t)wx * ow / ww, oy = (int64_t)wy * oh / wh;
    SDL_Rect d = sdl_dest(ow, oh);
    int64_t x = (ox - d.x) * (int64_t)sdl.tw / d.w;
    int64_t y = (oy - d.y) * (int64_t)sdl.th / d.h;
    /* ui_input_pointer clamps to the console; keep it in int32_t. */
    sdl.px = (int32_t)(x < -1 ? -1 : x > INT32_MAX ? INT32_MAX : x);
    sdl.py = (int32_t)(y < -1 ? -1 : y > INT32_MAX ? INT32_MAX : y);
}

static void sdl_pointer_send(uint32_t extra)
{
    if (sdl.con) {
        ui_input_pointer(sdl.con, sdl.px, sdl.py, sdl.buttons | extra);
    }
}

static uint32_t sdl_button_bit(uint8_t button)
{
    switch (button) {
    case SDL_BUTTON_LEFT:
        return UI_BUTTON_LEFT;
    case SDL_BUTTON_MIDDLE:
        return UI_BUTTON_MIDDLE;
    case SDL_BUTTON_RIGHT:
        return UI_BUTTON_RIGHT;
    default:
        return 0;
    }
}

static void sdl_wheel(const SDL_MouseWheelEvent *w)
{
    int32_t y = w->y;
    if (w->direction == SDL_MOUSEWHEEL_FLIPPED) {
        y = -y;
    }
    uint32_t bit = y > 0 ? UI_BUTTON_WHEEL_UP : UI_BUTTON_WHEEL_DOWN;
    int32_t n = y < 0 ? -y : y;
    /* Each event carrying a wheel bit is one notch to the sink. */
    for (int32_t i = 0; i < n && i < WIN_MAX_NOTCHES; i++) {
        sdl_pointer_send(bit);
    }
}

static void sdl_request_size(void *opaque)
{
    (void)opaque;
    if (sdl.started && sdl.con && sdl.req_w && sdl.req_h) {
        ui_console_request_size(sdl.con, sdl.req_w, sdl.req_h);
    }
}

/* The window is now w x h (the user, the window manager or our own
 * SDL_SetWindowSize). Ask the guest for that size once it settles; in
 * the meantime the frame is scaled. */
static void sdl_window_sized(int w, int h)
{
    if (!sdl.con || w <= 0 || h <= 0) {
        return;
    }
    if (((uint32_t)w == sdl.tw && (uint32_t)h == sdl.th) || !sdl.tw) {
        loop_timer_cancel(sdl.req_timer);
        return;
    }
    sdl.req_w = (uint32_t)w;
    sdl.req_h = (uint32_t)h;
    loop_timer_arm(sdl.req_timer, loop_now_ns() + WIN_REQ_DELAY_NS);
}

static void sdl_close_requested(void)
{
    if (sdl.window_close) {
        /* As Ctrl-A x does: main's runstate handling quits. */
        runstate_request(RUNSTATE_REQ_QUIT, 0);
        loop_wakeup();
    }
}

static void sdl_event(const SDL_Event *ev)
{
    switch (ev->type) {
    case SDL_KEYDOWN:
    case SDL_KEYUP:
        sdl_key(ev->key.keysym.scancode, ev->type == SDL_KEYDOWN);
        break;
    case SDL_MOUSEMOTION:
        sdl_pointer_at(ev->motion.x, ev->motion.y);
        sdl_pointer_send(0);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP: {
        uint32_t bit = sdl_button_bit(ev->button.button);
        if (ev->type == SDL_MOUSEBUTTONDOWN) {
            sdl.buttons |= bit;
        } else {
            sdl.buttons &= ~bit;
        }
        sdl_pointer_at(ev->button.x, ev->button.y);
        sdl_pointer_send(0);
        break;
    }
    case SDL_MOUSEWHEEL:
        sdl_wheel(&ev->wheel);
        break;
    case SDL_QUIT:
        sdl_close_requested();
        break;
    case SDL_WINDOWEVENT:
        switch (ev->window.event) {
        case SDL_WINDOWEVENT_EXPOSED:
            sdl.dirty = true;
            sdl_service_soon();
            break;
        case SDL_WINDOWEVENT_SIZE_CHANGED:
            sdl_window_sized(ev->window.data1, ev->window.data2);
            sdl.dirty = true;
            sdl_service_soon();
            break;
        case SDL_WINDOWEVENT_FOCUS_LOST:
            sdl_release_keys();
            if (sdl.buttons) {
                sdl.buttons = 0;
                sdl_pointer_send(0);
            }
            break;
        case SDL_WINDOWEVENT_CLOSE:
            sdl_close_requested();
            break;
        default:
            break;
        }
        break;
    default:
        break;
    }
}

/* Handle every event SDL has; afterwards Xlib's queue is empty too, as
 * SDL_PollEvent pumps the X connection until it has nothing more. */
static void sdl_pump(void)
{
    SDL_Event ev;
    while (sdl.started && SDL_PollEvent(&ev)) {
        sdl_event(&ev);
    }
}

/* ---- main-loop hooks ---- */

static void sdl_service_now(void)
{
    if (!sdl.started) {
        return;
    }
    if (sdl.dirty) {
        uint64_t now = loop_now_ns();
        if (now - sdl.last_frame >= WIN_FRAME_NS) {
            sdl.dirty = false;
            sdl.last_frame = now;
            loop_timer_cancel(sdl.frame_timer);
            sdl_frame();
        } else {
            loop_timer_arm(sdl.frame_timer, sdl.last_frame + WIN_FRAME_NS);
        }
    }
    sdl_pump();
}

static void sdl_service(void *opaque)
{
    (void)opaque;
    sdl.service_queued = false;
    sdl_service_now();
}

static void sdl_frame_due(void *opaque)
{
    (void)opaque;
    sdl_service_now();
}

static void sdl_poll_tick(void *opaque)
{
    (void)opaque;
    sdl_pump();
    if (sdl.started) {
        loop_timer_arm(sdl.poll_timer, loop_now_ns() + sdl.poll_ns);
    }
}

static void sdl_x11_ready(void *opaque, uint32_t events)
{
    (void)opaque;
    sdl_pump();
    if (sdl.started && (events & (EPOLLHUP | EPOLLERR))) {
        /* Xlib normally ends the process when the server goes away; if
         * it did not, stop watching a dead fd and fall back to polling. */
        loop_del_fd(sdl.x11_fd);
        sdl.x11_fd = -1;
        sdl.poll_ns = WIN_POLL_NS;
        loop_timer_arm(sdl.poll_timer, loop_now_ns() + sdl.poll_ns);
    }
}

/* Watch the X connection if SDL drives X11; else poll. SDL also does a
 * little timed work inside its pump (deferred focus changes after a
 * full-screen mode switch, ending a window flash), none of which this
 * backend starts; a 1 s tick still keeps such work from waiting for the
 * next X event, at a cost too small to measure. */
static void sdl_watch_events(void)
{
    int fd = -1;
#ifdef SDL_VIDEO_DRIVER_X11
    SDL_SysWMinfo info;
    SDL_VERSION(&info.version);
    if (SDL_GetWindowWMInfo(sdl.win, &info) &&
        info.subsystem == SDL_SYSWM_X11 && info.info.x11.display) {
        fd = ConnectionNumber(info.info.x11.display);
    }
#endif
    if (fd >= 0 && loop_add_fd(fd, EPOLLIN, sdl_x11_ready, NULL) == 0) {
        sdl.x11_fd = fd;
        sdl.poll_ns = WIN_TICK_NS;
    } else {
        sdl.x11_fd = -1;
        sdl.poll_ns = WIN_POLL_NS;
    }
    loop_timer_arm(sdl.poll_timer, loop_now_ns() + sdl.poll_ns);
}

/* ---- backend callbacks ---- */

static void sdl_apply_cursor(void)
{
    if (sdl.cursor) {
        SDL_SetCursor(sdl.cursor);
        SDL_ShowCursor(SDL_ENABLE);
    } else if (sdl.show_cursor) {
        SDL_SetCursor(SDL_GetDefaultCursor());
        SDL_ShowCursor(SDL_ENABLE);
    } else {
        SDL_ShowCursor(SDL_DISABLE);
    }
}

static void sdl_resized(void *opaque, struct ui_console *c)
{
    (void)opaque;
    if (!sdl.started || c != sdl.con) {
        return;
    }
    uint32_t w, h;
    ui_console_size(c, &w, &h);
    if (w != sdl.tw || h != sdl.th || !sdl.tex) {
        if (sdl.tex) {
            SDL_DestroyTexture(sdl.tex);
            sdl.tex = NULL;
        }
        sdl.tw = sdl.th = 0;
        if (w && h) {
            sdl.tex =
                SDL_CreateTexture(sdl.ren, SDL_PIXELFORMAT_RGB888,
                                  SDL_TEXTUREACCESS_STREAMING, (int)w, (int)h);
        }
        if (sdl.tex) {
            SDL_SetTextureBlendMode(sdl.tex, SDL_BLENDMODE_NONE);
            sdl.tw = w;
            sdl.th = h;
        }
    }
    pixman_region32_clear(&sdl.damage);
    if (sdl.tex) {
        pixman_region32_union_rect(&sdl.damage, &sdl.damage, 0, 0, sdl.tw,
                                   sdl.th);
        /* The guest's size wins over a request still settling. */
        loop_timer_cancel(sdl.req_timer);
        int ww = 0, wh = 0;
        SDL_GetWindowSize(sdl.win, &ww, &wh);
        uint32_t flags = SDL_GetWindowFlags(sdl.win);
        if (!(flags & (SDL_WINDOW_MAXIMIZED | SDL_WINDOW_FULLSCREEN)) &&
            ((uint32_t)ww != sdl.tw || (uint32_t)wh != sdl.th)) {
            SDL_SetWindowSize(sdl.win, (int)sdl.tw, (int)sdl.th);
        }
    }
    sdl.dirty = true;
    sdl_service_soon();
}

static void sdl_damage(void *opaque, struct ui_console *c,
                       const struct ui_rect *r)
{
    (void)opaque;
    if (!sdl.started || c != sdl.con) {
        return;
    }
    pixman_region32_union_rect(&sdl.damage, &sdl.damage, r->x, r->y, r->w,
                               r->h);
    sdl.dirty = true;
    sdl_service_soon();
}

static void sdl_cursor_changed(void *opaque, struct ui_console *c)
{
    (void)opaque;
    if (!sdl.started || c != sdl.con) {
        return;
    }
    uint32_t hx, hy;
    int32_t x, y;
    pixman_image_t *img = ui_console_cursor(c, &hx, &hy, &x, &y);
    SDL_Cursor *cur = NULL;
    if (img) {
        int w = pixman_image_get_width(img), h = pixman_image_get_height(img);
        /* pixman's a8r8g8b8 is premultiplied, as X cursors want it. */
        SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom(
            pixman_image_get_data(img), w, h, 32, pixman_image_get_stride(img),
            SDL_PIXELFORMAT_ARGB8888);
        if (s && w > 0 && h > 0) {
            cur = SDL_CreateColorCursor(s, hx < (uint32_t)w ? (int)hx : w - 1,
                                        hy < (uint32_t)h ? (int)hy : h - 1);
        }
        SDL_FreeSurface(s);
        pixman_image_unref(img);
    }
    SDL_Cursor *old = sdl.cursor;
    sdl.cursor = cur;
    sdl_apply_cursor();
    if (old) {
        SDL_FreeCursor(old);
    }
    sdl_service_soon();
}

static const struct ui_backend_ops sdl_backend_ops = {
    .resized = sdl_resized,
    .damage = sdl_damage,
    .cursor_changed = sdl_cursor_changed,
};

/* ---- start and stop ---- */

int sdl_start(const char *spec, const char *name, struct error *err)
{
    bool window_close, show_cursor;
    int ret = sdl_parse(spec, "-display", &window_close, &show_cursor, err);
    if (ret < 0) {
        return ret;
    }
    if (sdl.started) {
        return err_set(err, -EBUSY, "-display sdl: a window is already open");
    }
    memset(sdl.keys, 0, sizeof(sdl.keys));
    sdl.buttons = 0;
    /* swede's main loop owns the signals (signalfd). */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    /* A virtual machine's window should not keep the host awake. */
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    /* Window close is ours to handle (window-close=). */
    SDL_SetHint(SDL_HINT_QUIT_ON_LAST_WINDOW_CLOSE, "0");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
        ret = err_set(err, -ENODEV, "-display sdl: cannot open a window: %s",
                      SDL_GetError());
        SDL_Quit();
        return ret;
    }

    char title[300];
    if (name && *name) {
        snprintf(title, sizeof(title), "swede - %s", name);
    } else {
        snprintf(title, sizeof(title), "swede");
    }
    struct error dummy = { 0 };
    struct ui_console *con = ui_console_find(NULL, 0, &dummy);
    uint32_t w = 0, h = 0;
    if (con) {
        ui_console_size(con, &w, &h);
    }
    if (!w || !h) {
        w = WIN_BLANK_W;
        h = WIN_BLANK_H;
    }
    sdl.win = SDL_CreateWindow(title, SDL_WINDOWPOS_UNDEFINED,
                               SDL_WINDOWPOS_UNDEFINED, (int)w, (int)h,
                               SDL_WINDOW_RESIZABLE);
    if (sdl.win) {
        sdl.ren = SDL_CreateRenderer(sdl.win, -1, 0);
        if (!sdl.ren) {
            sdl.ren = SDL_CreateRenderer(sdl.win, -1, SDL_RENDERER_SOFTWARE);
        }
    }
    sdl.poll_timer = loop_timer_new(sdl_poll_tick, NULL);
    sdl.frame_timer = loop_timer_new(sdl_frame_due, NULL);
    sdl.req_timer = loop_timer_new(sdl_request_size, NULL);
    if (!sdl.win || !sdl.ren || !sdl.poll_timer || !sdl.frame_timer ||
        !sdl.req_timer) {
        ret = err_set(err, -ENODEV, "-display sdl: cannot open a window: %s",
                      (sdl.win && sdl.ren) ? "out of memory" : SDL_GetError());
        pixman_region32_init(&sdl.damage);
        sdl.started = true; /* let sdl_stop undo the parts */
        sdl_stop();
        return ret;
    }
    /* Keys go to the guest as scancodes: no IME in the way. */
    SDL_StopTextInput();

    sdl.started = true;
    sdl.window_close = window_close;
    sdl.show_cursor = show_cursor;
    sdl.con = con;
    sdl.tw = sdl.th = 0;
    sdl.last_frame = 0;
    sdl.dirty = true;
    pixman_region32_init(&sdl.damage);
    sdl_apply_cursor();
    sdl_watch_events();

    if (!sdl.registered) {
        /* Tells us resized and cursor_changed for every console. */
        ret = ui_add_backend(&sdl_backend_ops, NULL);
        if (ret < 0) {
            sdl_stop();
            return err_set(err, ret, "-display sdl: too many display backends");
        }
        sdl.registered = true;
    } else if (con) {
        sdl_resized(NULL, con);
        sdl_cursor_changed(NULL, con);
    }
    sdl_service_soon();
    return 0;
}

void sdl_stop(void)
{
    if (!sdl.started) {
        return;
    }
    sdl_release_keys();
    sdl.started = false;
    if (sdl.x11_fd >= 0) {
        loop_del_fd(sdl.x11_fd);
        sdl.x11_fd = -1;
    }
    loop_timer_free(sdl.poll_timer);
    loop_timer_free(sdl.frame_timer);
    loop_timer_free(sdl.req_timer);
    sdl.poll_timer = sdl.frame_timer = sdl.req_timer = NULL;
    loop_call_cancel(sdl_service, NULL);
    sdl.service_queued = false;
    if (sdl.cursor) {
        SDL_SetCursor(SDL_GetDefaultCursor());
        SDL_FreeCursor(sdl.cursor);
        sdl.cursor = NULL;
    }
    if (sdl.tex) {
        SDL_DestroyTexture(sdl.tex);
        sdl.tex = NULL;
    }
    if (sdl.ren) {
        SDL_DestroyRenderer(sdl.ren);
        sdl.ren = NULL;
    }
    if (sdl.win) {
        SDL_DestroyWindow(sdl.win);
        sdl.win = NULL;
    }
    pixman_region32_fini(&sdl.damage);
    sdl.con = NULL;
    sdl.tw = sdl.th = 0;
    SDL_QuitSubSystem(SDL_INIT_VIDEO);
    SDL_Quit();
}
