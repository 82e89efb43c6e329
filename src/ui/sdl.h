/* SPDX-License-Identifier: MIT */
/*
 * The SDL2 window backend (design.md "Display"): QEMU's -display sdl. One
 * resizable window shows head 0 of the first display device, scaled to fit
 * with its aspect kept, and feeds keys (as Linux evdev codes), the pointer
 * (absolute, in console pixels) and the wheel back through the console
 * layer's input router. The guest's cursor becomes the host cursor over
 * the window. Closing the window quits swede unless window-close=off.
 *
 * Every SDL call is made on the main-loop thread; SDL is not thread-safe.
 * Not here: grabs and hotkeys (QEMU's Ctrl-Alt-G, -F), one window per
 * console, OpenGL scanouts (gl=on), full-screen.
 */
#ifndef SWEDE_UI_SDL_H
#define SWEDE_UI_SDL_H

#include <stdint.h>

struct error;

/* Check a -display spec such as "sdl,window-close=off,show-cursor=on"
 * without opening anything: the type must be sdl and the only keys
 * window-close and show-cursor (on/off). optname names the option in the
 * one-line error ("-display"). Any thread. */
int sdl_check_spec(const char *spec, const char *optname, struct error *err);

/* Open the window for spec (checked as above), titled "swede" or
 * "swede - <name>" when name (-name) is not NULL, and register as a
 * display backend. Call after loop_init() and after the board has created
 * its consoles. Fails with a message when no window can be opened (no
 * DISPLAY, no video driver). At most one window at a time. Main-loop
 * thread. */
int sdl_start(const char *spec, const char *name, struct error *err);

/* Close the window and shut SDL down; the backend stays registered but
 * ignores the consoles from then on. Safe when not started. Main-loop
 * thread, before ui_shutdown(). */
void sdl_stop(void);

/* The Linux key code (linux/input-event-codes.h) for an SDL scancode,
 * 0 for keys a PC keyboard does not have. Any thread. */
uint32_t sdl_scancode_to_linux(int scancode);

#endif
