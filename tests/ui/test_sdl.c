/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the SDL backend's parts that need no display: the
 * -display sdl option check (QEMU's keys, one-line errors naming the bad
 * one) and the SDL scancode -> Linux key code table. Opening a window is
 * tested under Xvfb by tests/functional/test_sdl_backend.py.
 */
#include <SDL.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "core/error.h"
#include "harness.h"
#include "ui/sdl.h"

static int check(const char *spec, struct error *err)
{
    memset(err, 0, sizeof(*err));
    return sdl_check_spec(spec, "-display", err);
}

TEST(spec_ok)
{
    struct error err;
    CHECK_EQ(check("sdl", &err), 0);
    CHECK_EQ(check("sdl,window-close=off", &err), 0);
    CHECK_EQ(check("sdl,show-cursor=on,window-close=on", &err), 0);
    CHECK_EQ(check("sdl,show-cursor=no", &err), 0);
    CHECK(!err_is_set(&err));
}

TEST(spec_errors)
{
    struct error err;
    CHECK(check("sdl,gl=on", &err) < 0);
    CHECK(strcmp(err.msg, "-display sdl,gl=on: invalid parameter 'gl'") == 0);
    CHECK(check("sdl,window-close=maybe", &err) < 0);
    CHECK(strstr(err.msg, "'window-close'") != NULL);
    CHECK(strstr(err.msg, "maybe") != NULL);
    CHECK(check("gtk", &err) < 0);
    CHECK(strstr(err.msg, "-display gtk") == err.msg);
    CHECK(strchr(err.msg, '\n') == NULL);
}

TEST(keymap)
{
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_A), KEY_A);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_Q), KEY_Q);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_Z), KEY_Z);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_1), KEY_1);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_0), KEY_0);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_RETURN), KEY_ENTER);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_GRAVE), KEY_GRAVE);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_F1), KEY_F1);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_F10), KEY_F10);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_F11), KEY_F11);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_F12), KEY_F12);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_UP), KEY_UP);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_PAGEDOWN), KEY_PAGEDOWN);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_KP_0), KEY_KP0);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_KP_ENTER), KEY_KPENTER);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_RGUI), KEY_RIGHTMETA);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_NONUSBACKSLASH), KEY_102ND);
    CHECK_EQ(sdl_scancode_to_linux(SDL_SCANCODE_UNKNOWN), 0);
    CHECK_EQ(sdl_scancode_to_linux(-1), 0);
    CHECK_EQ(sdl_scancode_to_linux(SDL_NUM_SCANCODES), 0);
}

/* Every key of a 105-key PC keyboard has a code, and no two of them
 * share one. */
TEST(keymap_pc_keyboard)
{
    static const int pc[] = {
        SDL_SCANCODE_ESCAPE,       SDL_SCANCODE_TAB,
        SDL_SCANCODE_CAPSLOCK,     SDL_SCANCODE_BACKSPACE,
        SDL_SCANCODE_SPACE,        SDL_SCANCODE_MINUS,
        SDL_SCANCODE_EQUALS,       SDL_SCANCODE_LEFTBRACKET,
        SDL_SCANCODE_RIGHTBRACKET, SDL_SCANCODE_BACKSLASH,
        SDL_SCANCODE_SEMICOLON,    SDL_SCANCODE_APOSTROPHE,
        SDL_SCANCODE_COMMA,        SDL_SCANCODE_PERIOD,
        SDL_SCANCODE_SLASH,        SDL_SCANCODE_PRINTSCREEN,
        SDL_SCANCODE_SCROLLLOCK,   SDL_SCANCODE_PAUSE,
        SDL_SCANCODE_INSERT,       SDL_SCANCODE_HOME,
        SDL_SCANCODE_PAGEUP,       SDL_SCANCODE_DELETE,
        SDL_SCANCODE_END,          SDL_SCANCODE_LEFT,
        SDL_SCANCODE_RIGHT,        SDL_SCANCODE_DOWN,
        SDL_SCANCODE_NUMLOCKCLEAR, SDL_SCANCODE_KP_DIVIDE,
        SDL_SCANCODE_KP_MULTIPLY,  SDL_SCANCODE_KP_MINUS,
        SDL_SCANCODE_KP_PLUS,      SDL_SCANCODE_KP_PERIOD,
        SDL_SCANCODE_LCTRL,        SDL_SCANCODE_LSHIFT,
        SDL_SCANCODE_LALT,         SDL_SCANCODE_LGUI,
        SDL_SCANCODE_RCTRL,        SDL_SCANCODE_RSHIFT,
        SDL_SCANCODE_RALT,         SDL_SCANCODE_APPLICATION,
    };
    static uint8_t seen[KEY_MAX + 1];
    int n = 0;
    memset(seen, 0, sizeof(seen));
    for (unsigned i = 0; i < sizeof(pc) / sizeof(pc[0]); i++) {
        uint32_t code = sdl_scancode_to_linux(pc[i]);
        CHECK(code != 0 && code <= KEY_MAX);
        if (code && code <= KEY_MAX) {
            CHECK(!seen[code]);
            seen[code] = 1;
        }
    }
    /* Letters, digits, F-keys and keypad digits too. */
    for (int sc = SDL_SCANCODE_A; sc <= SDL_SCANCODE_0; sc++) {
        n += sdl_scancode_to_linux(sc) != 0;
    }
    for (int sc = SDL_SCANCODE_F1; sc <= SDL_SCANCODE_F12; sc++) {
        n += sdl_scancode_to_linux(sc) != 0;
    }
    for (int sc = SDL_SCANCODE_KP_1; sc <= SDL_SCANCODE_KP_0; sc++) {
        n += sdl_scancode_to_linux(sc) != 0;
    }
    CHECK_EQ(n, 36 + 12 + 10);
}

int main(void)
{
    RUN(spec_ok);
    RUN(spec_errors);
    RUN(keymap);
    RUN(keymap_pc_keyboard);
    HARNESS_END();
}
