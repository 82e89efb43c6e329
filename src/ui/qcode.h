/* SPDX-License-Identifier: MIT */
/*
 * QEMU's key names (QKeyCode in qapi/ui.json: "a", "ctrl", "kp_enter",
 * "f1", ...) and QEMU's key numbers (QKeyCode "number": PC XT set-1
 * scancodes, 0xe0-prefixed keys as 0x80 | code), mapped to Linux evdev key
 * codes, for QMP send-key and input-send-event. Pure tables, any thread.
 */
#ifndef SWEDE_UI_QCODE_H
#define SWEDE_UI_QCODE_H

#include <stdint.h>

/* The Linux key code of a QKeyCode name, or 0 if there is none. */
uint32_t qcode_to_linux(const char *name);
/* The Linux key code of a QEMU key number (XT scancode), or 0. */
uint32_t qnum_to_linux(int64_t num);

#endif
