/* SPDX-License-Identifier: MIT */
/*
 * Screendumps: write a pixman image as PNG (libpng, 8-bit RGB) or binary
 * PPM (P6, maxval 255), as QEMU's screendump command does. Alpha is
 * dropped (colours stay as stored, i.e. premultiplied). The file appears
 * whole or not at all: it is written to a temporary name in the same
 * directory and renamed over path. Not here: choosing which image to dump
 * (gfx_scanout_snapshot(), the display layer) and the QMP command.
 * Any thread; the image must not change while it is written.
 */
#ifndef SWEDE_UI_SCREENDUMP_H
#define SWEDE_UI_SCREENDUMP_H

#include <pixman.h>

struct error;

enum screendump_format {
    SCREENDUMP_PPM,
    SCREENDUMP_PNG,
};

/* "ppm" or "png" (QMP screendump's format argument); 0 or -EINVAL. */
int screendump_format_parse(const char *name, enum screendump_format *fmt,
                            struct error *err);

/* Write img (any pixman format, non-empty) to path. 0 or a negative
 * errno; on failure no file is left behind and path is untouched. */
int screendump_write(pixman_image_t *img, const char *path,
                     enum screendump_format fmt, struct error *err);

#endif
