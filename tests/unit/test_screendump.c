/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ui/screendump: PNG files read back with libpng give the
 * image's pixels, PPM files have the exact P6 bytes, several pixman
 * source formats convert to the same RGB, an existing file is replaced,
 * failures leave nothing behind, and no temporary file survives.
 */
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "harness.h"
#include "ui/screendump.h"

#define W 5
#define H 3

static char dir[] = "/tmp/swede-screendump-XXXXXX";

/* Expected R, G, B of pixel (x, y). */
static void rgb_of(int x, int y, uint8_t out[3])
{
    out[0] = (uint8_t)(0x10 * x + 1);
    out[1] = (uint8_t)(0x40 * y + 2);
    out[2] = (uint8_t)(0x11 * (x + y) + 3);
}

/* A W x H image in format fmt (a8r8g8b8 or x8b8g8r8) holding rgb_of(). */
static pixman_image_t *make_image(pixman_format_code_t fmt)
{
    pixman_image_t *img = pixman_image_create_bits(fmt, W, H, NULL, 0);
    uint32_t *d = pixman_image_get_data(img);
    int stride = pixman_image_get_stride(img) / 4;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t c[3];
            rgb_of(x, y, c);
            uint32_t v;
            if (fmt == PIXMAN_x8b8g8r8) {
                v = 0x5a000000u | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 |
                    c[0];
            } else {
                v = 0xff000000u | (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 |
                    c[2];
            }
            d[y * stride + x] = v;
        }
    }
    return img;
}

static char *path_in_dir(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

/* Number of entries in dir besides . and .. */
static int dir_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static bool check_png(const char *path)
{
    png_image pi;
    memset(&pi, 0, sizeof(pi));
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&pi, path)) {
        printf("  png: %s\n", pi.message);
        return false;
    }
    bool ok = pi.width == W && pi.height == H;
    /* RGB without alpha in the file itself. */
    ok = ok && !(pi.format & PNG_FORMAT_FLAG_ALPHA);
    pi.format = PNG_FORMAT_RGB;
    uint8_t buf[W * H * 3];
    if (!ok || !png_image_finish_read(&pi, NULL, buf, 0, NULL)) {
        png_image_free(&pi);
        return false;
    }
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t c[3];
            rgb_of(x, y, c);
            if (memcmp(&buf[(y * W + x) * 3], c, 3) != 0) {
                printf("  png: pixel %d,%d differs\n", x, y);
                ok = false;
            }
        }
    }
    return ok;
}

static bool check_ppm(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    uint8_t buf[256];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    const char hdr[] = "P6\n5 3\n255\n";
    size_t hl = sizeof(hdr) - 1;
    if (n != hl + W * H * 3 || memcmp(buf, hdr, hl) != 0) {
        return false;
    }
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
            uint8_t c[3];
            rgb_of(x, y, c);
            if (memcmp(&buf[hl + (y * W + x) * 3], c, 3) != 0) {
                return false;
            }
        }
    }
    return true;
}

TEST(parse)
{
    enum screendump_format fmt = SCREENDUMP_PNG;
    struct error err = { 0 };
    CHECK_EQ(screendump_format_parse("ppm", &fmt, &err), 0);
    CHECK_EQ(fmt, SCREENDUMP_PPM);
    CHECK_EQ(screendump_format_parse("png", &fmt, &err), 0);
    CHECK_EQ(fmt, SCREENDUMP_PNG);
    CHECK(screendump_format_parse("bmp", &fmt, &err) < 0);
    CHECK(strstr(err.msg, "bmp") != NULL);
}

TEST(png_roundtrip)
{
    pixman_format_code_t fmts[] = { PIXMAN_a8r8g8b8, PIXMAN_x8b8g8r8 };
    for (unsigned i = 0; i < 2; i++) {
        pixman_image_t *img = make_image(fmts[i]);
        const char *p = path_in_dir("shot.png");
        struct error err = { 0 };
        CHECK_EQ(screendump_write(img, p, SCREENDUMP_PNG, &err), 0);
        CHECK(check_png(p));
        pixman_image_unref(img);
    }
    CHECK_EQ(dir_entries(), 1);
    unlink(path_in_dir("shot.png"));
}

TEST(ppm_content)
{
    pixman_format_code_t fmts[] = { PIXMAN_a8r8g8b8, PIXMAN_x8b8g8r8 };
    for (unsigned i = 0; i < 2; i++) {
        pixman_image_t *img = make_image(fmts[i]);
        const char *p = path_in_dir("shot.ppm");
        struct error err = { 0 };
        CHECK_EQ(screendump_write(img, p, SCREENDUMP_PPM, &err), 0);
        CHECK(check_ppm(p));
        pixman_image_unref(img);
    }
    unlink(path_in_dir("shot.ppm"));
}

TEST(replace_existing)
{
    const char *p = path_in_dir("old.ppm");
    FILE *f = fopen(p, "w");
    fputs("old contents that are longer than nothing", f);
    fclose(f);
    pixman_image_t *img = make_image(PIXMAN_a8r8g8b8);
    struct error err = { 0 };
    CHECK_EQ(screendump_write(img, p, SCREENDUMP_PPM, &err), 0);
    CHECK(check_ppm(p));
    CHECK_EQ(dir_entries(), 1);
    /* A fresh file gets the usual mode (0666 less the umask). */
    struct stat st;
    CHECK_EQ(stat(p, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    CHECK_EQ(st.st_mode & 0777, 0666 & ~mask);
    unlink(p);
    pixman_image_unref(img);
}

TEST(failures)
{
    pixman_image_t *img = make_image(PIXMAN_a8r8g8b8);
    struct error e1 = { 0 };
    CHECK_EQ(
        screendump_write(img, "/nonexistent-dir/x.png", SCREENDUMP_PNG, &e1),
        -ENOENT);
    CHECK(e1.msg[0] != 0);
    /* Renaming onto a directory fails after the data is written; the
     * temporary file must go. */
    const char *sub = path_in_dir("adir");
    CHECK_EQ(mkdir(sub, 0755), 0);
    struct error e2 = { 0 };
    CHECK(screendump_write(img, sub, SCREENDUMP_PNG, &e2) < 0);
    CHECK_EQ(dir_entries(), 1);
    rmdir(sub);
    struct error e3 = { 0 };
    CHECK_EQ(
        screendump_write(img, path_in_dir("x"), (enum screendump_format)7, &e3),
        -EINVAL);
    pixman_image_unref(img);
    CHECK_EQ(dir_entries(), 0);

    /* Write errors (here: the file size limit) come back as errors and
     * leave no file; PNG goes through libpng's error longjmp. */
    pixman_image_t *big =
        pixman_image_create_bits(PIXMAN_a8r8g8b8, 256, 256, NULL, 0);
    /* Noise, so the PNG is far bigger than stdio's buffer and libpng
     * itself sees the failed write. */
    uint32_t *bits = pixman_image_get_data(big), seed = 1;
    for (int i = 0; i < 256 * 256; i++) {
        seed = seed * 1103515245u + 12345u;
        bits[i] = 0xff000000u | (seed >> 8);
    }
    struct rlimit old;
    CHECK_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = { 1000, old.rlim_max };
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
    struct error e4 = { 0 };
    CHECK(screendump_write(big, path_in_dir("big.ppm"), SCREENDUMP_PPM, &e4) <
          0);
    struct error e5 = { 0 };
    CHECK(screendump_write(big, path_in_dir("big.png"), SCREENDUMP_PNG, &e5) <
          0);
    CHECK(strstr(e5.msg, "libpng") != NULL);
    CHECK_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
    CHECK_EQ(dir_entries(), 0);
    pixman_image_unref(big);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(parse);
    RUN(png_roundtrip);
    RUN(ppm_content);
    RUN(replace_existing);
    RUN(failures);
    rmdir(dir);
    HARNESS_END();
}
