/* SPDX-License-Identifier: MIT */
/*
 * QKeyCode names and XT scancodes to Linux key codes (see qcode.h). The
 * name table follows QEMU's qapi/ui.json QKeyCode list; the scancode
 * table maps set-1 make codes (and the 0xe0-prefixed ones, as QEMU numbers
 * them, 0x80 | code) to the keys a PC keyboard has.
 */
#include "ui/qcode.h"

#include <linux/input-event-codes.h>
#include <stddef.h>
#include <string.h>

static const struct {
    const char *name;
    uint16_t code;
} qcode_names[] = {
    { "shift", KEY_LEFTSHIFT },
    { "shift_r", KEY_RIGHTSHIFT },
    { "alt", KEY_LEFTALT },
    { "alt_r", KEY_RIGHTALT },
    { "ctrl", KEY_LEFTCTRL },
    { "ctrl_r", KEY_RIGHTCTRL },
    { "menu", KEY_COMPOSE },
    { "esc", KEY_ESC },
    { "1", KEY_1 },
    { "2", KEY_2 },
    { "3", KEY_3 },
    { "4", KEY_4 },
    { "5", KEY_5 },
    { "6", KEY_6 },
    { "7", KEY_7 },
    { "8", KEY_8 },
    { "9", KEY_9 },
    { "0", KEY_0 },
    { "minus", KEY_MINUS },
    { "equal", KEY_EQUAL },
    { "backspace", KEY_BACKSPACE },
    { "tab", KEY_TAB },
    { "q", KEY_Q },
    { "w", KEY_W },
    { "e", KEY_E },
    { "r", KEY_R },
    { "t", KEY_T },
    { "y", KEY_Y },
    { "u", KEY_U },
    { "i", KEY_I },
    { "o", KEY_O },
    { "p", KEY_P },
    { "bracket_left", KEY_LEFTBRACE },
    { "bracket_right", KEY_RIGHTBRACE },
    { "ret", KEY_ENTER },
    { "a", KEY_A },
    { "s", KEY_S },
    { "d", KEY_D },
    { "f", KEY_F },
    { "g", KEY_G },
    { "h", KEY_H },
    { "j", KEY_J },
    { "k", KEY_K },
    { "l", KEY_L },
    { "semicolon", KEY_SEMICOLON },
    { "apostrophe", KEY_APOSTROPHE },
    { "grave_accent", KEY_GRAVE },
    { "backslash", KEY_BACKSLASH },
    { "z", KEY_Z },
    { "x", KEY_X },
    { "c", KEY_C },
    { "v", KEY_V },
    { "b", KEY_B },
    { "n", KEY_N },
    { "m", KEY_M },
    { "comma", KEY_COMMA },
    { "dot", KEY_DOT },
    { "slash", KEY_SLASH },
    { "asterisk", KEY_KPASTERISK },
    { "spc", KEY_SPACE },
    { "caps_lock", KEY_CAPSLOCK },
    { "f1", KEY_F1 },
    { "f2", KEY_F2 },
    { "f3", KEY_F3 },
    { "f4", KEY_F4 },
    { "f5", KEY_F5 },
    { "f6", KEY_F6 },
    { "f7", KEY_F7 },
    { "f8", KEY_F8 },
    { "f9", KEY_F9 },
    { "f10", KEY_F10 },
    { "f11", KEY_F11 },
    { "f12", KEY_F12 },
    { "f13", KEY_F13 },
    { "f14", KEY_F14 },
    { "f15", KEY_F15 },
    { "f16", KEY_F16 },
    { "f17", KEY_F17 },
    { "f18", KEY_F18 },
    { "f19", KEY_F19 },
    { "f20", KEY_F20 },
    { "f21", KEY_F21 },
    { "f22", KEY_F22 },
    { "f23", KEY_F23 },
    { "f24", KEY_F24 },
    { "num_lock", KEY_NUMLOCK },
    { "scroll_lock", KEY_SCROLLLOCK },
    { "kp_divide", KEY_KPSLASH },
    { "kp_multiply", KEY_KPASTERISK },
    { "kp_subtract", KEY_KPMINUS },
    { "kp_add", KEY_KPPLUS },
    { "kp_enter", KEY_KPENTER },
    { "kp_decimal", KEY_KPDOT },
    { "sysrq", KEY_SYSRQ },
    { "kp_0", KEY_KP0 },
    { "kp_1", KEY_KP1 },
    { "kp_2", KEY_KP2 },
    { "kp_3", KEY_KP3 },
    { "kp_4", KEY_KP4 },
    { "kp_5", KEY_KP5 },
    { "kp_6", KEY_KP6 },
    { "kp_7", KEY_KP7 },
    { "kp_8", KEY_KP8 },
    { "kp_9", KEY_KP9 },
    { "kp_comma", KEY_KPCOMMA },
    { "kp_equals", KEY_KPEQUAL },
    { "less", KEY_102ND },
    { "home", KEY_HOME },
    { "pgup", KEY_PAGEUP },
    { "pgdn", KEY_PAGEDOWN },
    { "end", KEY_END },
    { "left", KEY_LEFT },
    { "up", KEY_UP },
    { "down", KEY_DOWN },
    { "right", KEY_RIGHT },
    { "insert", KEY_INSERT },
    { "delete", KEY_DELETE },
    { "stop", KEY_STOP },
    { "again", KEY_AGAIN },
    { "props", KEY_PROPS },
    { "undo", KEY_UNDO },
    { "front", KEY_FRONT },
    { "copy", KEY_COPY },
    { "open", KEY_OPEN },
    { "paste", KEY_PASTE },
    { "find", KEY_FIND },
    { "cut", KEY_CUT },
    { "lf", KEY_LINEFEED },
    { "help", KEY_HELP },
    { "meta_l", KEY_LEFTMETA },
    { "meta_r", KEY_RIGHTMETA },
    { "compose", KEY_COMPOSE },
    { "pause", KEY_PAUSE },
    { "ro", KEY_RO },
    { "hiragana", KEY_HIRAGANA },
    { "henkan", KEY_HENKAN },
    { "yen", KEY_YEN },
    { "muhenkan", KEY_MUHENKAN },
    { "katakanahiragana", KEY_KATAKANAHIRAGANA },
    { "lang1", KEY_HANGEUL },
    { "lang2", KEY_HANJA },
    { "power", KEY_POWER },
    { "sleep", KEY_SLEEP },
    { "wake", KEY_WAKEUP },
    { "audionext", KEY_NEXTSONG },
    { "audioprev", KEY_PREVIOUSSONG },
    { "audiostop", KEY_STOPCD },
    { "audioplay", KEY_PLAYPAUSE },
    { "audiomute", KEY_MUTE },
    { "volumeup", KEY_VOLUMEUP },
    { "volumedown", KEY_VOLUMEDOWN },
    { "mediaselect", KEY_MEDIA },
    { "mail", KEY_MAIL },
    { "calculator", KEY_CALC },
    { "computer", KEY_COMPUTER },
    { "ac_home", KEY_HOMEPAGE },
    { "ac_back", KEY_BACK },
    { "ac_forward", KEY_FORWARD },
    { "ac_refresh", KEY_REFRESH },
    { "ac_bookmarks", KEY_BOOKMARKS },
};

/* 0xe0-prefixed set-1 codes (QEMU numbers them 0x80 | code). */
static const struct {
    uint8_t xt;
    uint16_t code;
} qnum_extended[] = {
    { 0x1c, KEY_KPENTER },  { 0x1d, KEY_RIGHTCTRL }, { 0x35, KEY_KPSLASH },
    { 0x37, KEY_SYSRQ },    { 0x38, KEY_RIGHTALT },  { 0x47, KEY_HOME },
    { 0x48, KEY_UP },       { 0x49, KEY_PAGEUP },    { 0x4b, KEY_LEFT },
    { 0x4d, KEY_RIGHT },    { 0x4f, KEY_END },       { 0x50, KEY_DOWN },
    { 0x51, KEY_PAGEDOWN }, { 0x52, KEY_INSERT },    { 0x53, KEY_DELETE },
    { 0x5b, KEY_LEFTMETA }, { 0x5c, KEY_RIGHTMETA }, { 0x5d, KEY_COMPOSE },
    { 0x5e, KEY_POWER },    { 0x5f, KEY_SLEEP },     { 0x63, KEY_WAKEUP },
};

uint32_t qcode_to_linux(const char *name)
{
    for (size_t i = 0; i < sizeof(qcode_names) / sizeof(qcode_names[0]); i++) {
        if (strcmp(qcode_names[i].name, name) == 0) {
            return qcode_names[i].code;
        }
    }
    return 0;
}

uint32_t qnum_to_linux(int64_t num)
{
    /* Set-1 make codes 0x01..0x58 are the Linux codes of the same keys
     * (Linux's numbering started from the XT scancodes). */
    if (num >= 0x01 && num <= 0x58 && num != 0x54) {
        return (uint32_t)num;
    }
    if (num >= 0x80 && num <= 0xff) {
        for (size_t i = 0; i < sizeof(qnum_extended) / sizeof(qnum_extended[0]);
             i++) {
            if (qnum_extended[i].xt == (num & 0x7f)) {
                return qnum_extended[i].code;
            }
        }
    }
    return 0;
}
