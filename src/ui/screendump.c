/* SPDX-License-Identifier: MIT */
/*
 * Screendumps as PNG (libpng) or P6 PPM. Each row is converted with pixman
 * into x8r8g8b8 words and then into R,G,B bytes, so any source format
 * and either host byte order give the same file. The file is written
 * under a fresh temporary name beside path (O_EXCL, mode 0666 less the
 * umask, as a plain open would give) and renamed over path only once it
 * is complete; on any failure the temporary file is removed. libpng's
 * errors are caught (setjmp) and returned through struct error, never
 * printed. Not here: which image to dump and the monitor command.
 */
#include "ui/screendump.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/error.h"

#define SCREENDUMP_TMP_TRIES 16

/* errno as a negative code, never 0 (a short fwrite need not set it). */
static int screendump_errno(void)
{
    return errno ? -errno : -EIO;
}

int screendump_format_parse(const char *name, enum screendump_format *fmt,
                            struct error *err)
{
    if (strcmp(name, "ppm") == 0) {
        *fmt = SCREENDUMP_PPM;
    } else if (strcmp(name, "png") == 0) {
        *fmt = SCREENDUMP_PNG;
    } else {
        return err_set(err, -EINVAL,
                       "unknown screendump format '%s' (ppm or png)", name);
    }
    return 0;
}

/* Converts one image row at a time into packed 8-bit RGB. */
struct screendump_rows {
    pixman_image_t *src;
    pixman_image_t *row_img; /* width x 1, x8r8g8b8, over row[] */
    uint32_t *row;
    uint8_t *rgb; /* width * 3 */
    int width;
};

static void screendump_row(struct screendump_rows *rs, int y)
{
    pixman_image_composite32(PIXMAN_OP_SRC, rs->src, NULL, rs->row_img, 0, y, 0,
                             0, 0, 0, rs->width, 1);
    uint8_t *d = rs->rgb;
    for (int x = 0; x < rs->width; x++) {
        uint32_t p = rs->row[x];
        *d++ = (uint8_t)(p >> 16);
        *d++ = (uint8_t)(p >> 8);
        *d++ = (uint8_t)p;
    }
}

static int screendump_ppm(FILE *f, struct screendump_rows *rs, int height,
                          struct error *err)
{
    if (fprintf(f, "P6\n%d %d\n255\n", rs->width, height) < 0) {
        return err_set(err, screendump_errno(), "write: %s", strerror(errno));
    }
    for (int y = 0; y < height; y++) {
        screendump_row(rs, y);
        if (fwrite(rs->rgb, 3, (size_t)rs->width, f) != (size_t)rs->width) {
            return err_set(err, screendump_errno(), "write: %s",
                           strerror(errno));
        }
    }
    return 0;
}

/* libpng's error callback: keep the message, unwind to the setjmp. */
static void screendump_png_error(png_structp png, png_const_charp msg)
{
    struct error *err = png_get_error_ptr(png);
    err_set(err, -EIO, "libpng: %s", msg);
    png_longjmp(png, 1);
}

static void screendump_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static int screendump_png(FILE *f, struct screendump_rows *rs, int height,
                          struct error *err)
{
    /* libpng sets err itself on failure, so use a local one and copy: the
     * caller's may already hold an error we must not mask. */
    struct error perr = { 0 };
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &perr,
                                screendump_png_error, screendump_png_warning);
    if (!png) {
        return err_set(err, -ENOMEM, "libpng: out of memory");
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return err_set(err, -ENOMEM, "libpng: out of memory");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return err_set(err, perr.code ? perr.code : -EIO, "%s", perr.msg);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)rs->width, (png_uint_32)height, 8,
                 PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) {
        screendump_row(rs, y);
        png_write_row(png, rs->rgb);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

/* Create a new file beside path; its name goes into tmp. */
static int screendump_open_tmp(const char *path, char *tmp, size_t tmp_size,
                               struct error *err)
{
    for (int i = 0; i < SCREENDUMP_TMP_TRIES; i++) {
        uint32_t r;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
            r = (uint32_t)getpid() * 2654435761u + (uint32_t)i;
        }
        int n = snprintf(tmp, tmp_size, "%s.%08x.tmp", path, r);
        if (n < 0 || (size_t)n >= tmp_size) {
            return err_set(err, -ENAMETOOLONG, "%s: name too long", path);
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            return fd;
        }
        if (errno != EEXIST) {
            return err_set(err, screendump_errno(), "%s: %s", tmp,
                           strerror(errno));
        }
    }
    return err_set(err, -EEXIST, "%s: no free temporary name", path);
}

int screendump_write(pixman_image_t *img, const char *path,
                     enum screendump_format fmt, struct error *err)
{
    int width = pixman_image_get_width(img);
    int height = pixman_image_get_height(img);
    if (width <= 0 || height <= 0) {
        return err_set(err, -EINVAL, "screendump: empty image");
    }
    if (fmt != SCREENDUMP_PPM && fmt != SCREENDUMP_PNG) {
        return err_set(err, -EINVAL, "screendump: bad format %d", (int)fmt);
    }
    struct screendump_rows rs = { .src = img, .width = width };
    rs.row = calloc((size_t)width, sizeof(*rs.row));
    rs.rgb = malloc((size_t)width * 3);
    if (rs.row && rs.rgb) {
        rs.row_img = pixman_image_create_bits(PIXMAN_x8r8g8b8, width, 1, rs.row,
                                              width * 4);
    }
    if (!rs.row_img) {
        free(rs.row);
        free(rs.rgb);
        return err_set(err, -ENOMEM, "screendump: out of memory");
    }

    size_t tmp_size = strlen(path) + 32;
    char *tmp = malloc(tmp_size);
    int ret = tmp ? 0 : err_set(err, -ENOMEM, "screendump: out of memory");
    int fd = -1;
    FILE *f = NULL;
    if (ret == 0) {
        fd = screendump_open_tmp(path, tmp, tmp_size, err);
        ret = fd < 0 ? fd : 0;
    }
    if (ret == 0) {
        f = fdopen(fd, "wb");
        if (!f) {
            ret = err_set(err, screendump_errno(), "%s: %s", tmp,
                          strerror(errno));
            close(fd);
        }
    }
    if (ret == 0) {
        ret = fmt == SCREENDUMP_PNG ? screendump_png(f, &rs, height, err)
                                    : screendump_ppm(f, &rs, height, err);
    }
    if (f) {
        /* fclose reports write errors still in the stdio buffer. */
        if (fclose(f) != 0 && ret == 0) {
            ret = err_set(err, screendump_errno(), "%s: %s", tmp,
                          strerror(errno));
        }
    }
    if (ret == 0 && rename(tmp, path) != 0) {
        ret = err_set(err, screendump_errno(), "%s: %s", path, strerror(errno));
    }
    if (ret < 0 && fd >= 0) {
        unlink(tmp);
    }
    free(tmp);
    pixman_image_unref(rs.row_img);
    free(rs.row);
    free(rs.rgb);
    return ret;
}
