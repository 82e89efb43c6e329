/* SPDX-License-Identifier: MIT */
/*
 * The guest programs' test image (drm-pattern, wl-pattern), as 0x00RRGGBB.
 * tests/functional/gfx_pattern.py's pattern_rgb() makes the same image on
 * the host: the two must change together.
 */
#ifndef SWEDE_GUEST_PATTERN_H
#define SWEDE_GUEST_PATTERN_H

#include <stdint.h>

/*
 * The test image, as 0x00RRGGBB (the X byte is left 0, so a consumer that
 * wrongly treats it as alpha shows black).  Checked in this order:
 *   corners: (0,0) red, (w-1,0) green, (0,h-1) blue, (w-1,h-1) yellow;
 *   other edge pixels: white where x+y is even, black where odd;
 *   y < h/2: eight vertical colour bars, bar x*8/w of white, yellow, cyan,
 *     green, magenta, red, blue, black;
 *   y < 3h/4: grey ramp, level x*256/w;
 *   below: coordinates, R = x & 255, G = y & 255,
 *     B = ((x >> 8) & 15) << 4 | ((y >> 8) & 15).
 * All divisions are integer divisions.
 */
static inline uint32_t pattern_pixel(uint32_t x, uint32_t y, uint32_t w,
                                     uint32_t h)
{
    static const uint32_t bars[8] = {
        0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
        0xff00ff, 0xff0000, 0x0000ff, 0x000000,
    };
    int left = x == 0, right = x == w - 1, top = y == 0, bottom = y == h - 1;

    if (top && left) {
        return 0xff0000;
    }
    if (top && right) {
        return 0x00ff00;
    }
    if (bottom && left) {
        return 0x0000ff;
    }
    if (bottom && right) {
        return 0xffff00;
    }
    if (top || bottom || left || right) {
        return (x + y) & 1 ? 0x000000 : 0xffffff;
    }
    if (y < h / 2) {
        return bars[(uint64_t)x * 8 / w];
    }
    if (y < h * 3 / 4) {
        uint32_t v = (uint32_t)((uint64_t)x * 256 / w);

        return v << 16 | v << 8 | v;
    }
    return (x & 255) << 16 | (y & 255) << 8 | ((x >> 8) & 15) << 4 |
           ((y >> 8) & 15);
}

#endif
