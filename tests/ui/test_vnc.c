/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for ui/vnc: the -vnc argument (accepted forms, one-line
 * errors naming the option), "none", ports taken and to=, and an RFB 3.8
 * client on a thread of its own talking to the server in this process's
 * main loop: handshake, a full update in a pixel format other than the
 * server's compared pixel for pixel, an update after damage, key and
 * pointer events reaching the input sink, keys released when the client
 * goes, a WebSocket handshake on the VNC port, and no descriptor left
 * behind by vnc_stop. The protocol cases
 * with WebSockets, cursors and resizes are in
 * tests/functional/test_vnc_backend.py.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/error.h"
#include "core/loop.h"
#include "harness.h"
#include "ui/console.h"
#include "ui/vnc.h"

#define W 98 /* not a multiple of 4 on purpose */
#define H 60

static struct ui_console *con;

static uint32_t pix(uint32_t x, uint32_t y)
{
    return ((x * 37 + y * 11) & 0xff) << 16 | ((x ^ y) * 5 & 0xff) << 8 |
           ((x + 3 * y) & 0xff);
}

static void draw(int32_t x0, int32_t y0, uint32_t w, uint32_t h, bool fill,
                 uint32_t rgb)
{
    pixman_image_t *img =
        pixman_image_create_bits(PIXMAN_x8r8g8b8, (int)w, (int)h, NULL, 0);
    uint32_t *px = pixman_image_get_data(img);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            px[y * w + x] = fill ? rgb : pix(x, y);
        }
    }
    struct ui_rect r = { x0, y0, w, h };
    ui_console_blit(con, img, 0, 0, &r);
    pixman_image_unref(img);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (readdir(d)) {
        n++;
    }
    closedir(d);
    return n;
}

/* ---- the -vnc argument ---- */

static bool spec_fails(const char *spec, const char *needle)
{
    struct error err = { 0 };
    int ret = vnc_check_spec(spec, "-vnc", &err);
    bool ok = ret == -EINVAL && strstr(err.msg, needle) &&
              strncmp(err.msg, "-vnc: ", 6) == 0 && !strchr(err.msg, '\n');
    if (!ok) {
        printf("  spec '%s': %d '%s' (wanted '%s')\n", spec, ret, err.msg,
               needle);
    }
    return ok;
}

static bool spec_ok(const char *spec)
{
    struct error err = { 0 };
    int ret = vnc_check_spec(spec, "-vnc", &err);
    if (ret != 0) {
        printf("  spec '%s': %d '%s'\n", spec, ret, err.msg);
    }
    return ret == 0;
}

TEST(spec)
{
    CHECK(spec_ok("none"));
    CHECK(spec_ok(":0"));
    CHECK(spec_ok("127.0.0.1:1"));
    CHECK(spec_ok("localhost:2,password=off"));
    CHECK(spec_ok("[::1]:3,websocket=on"));
    CHECK(spec_ok(":4,websocket=5704"));
    CHECK(spec_ok(":5,websocket=127.0.0.1:5705"));
    CHECK(spec_ok(":6,websocket=off,to=20"));
    CHECK(spec_ok(":6,websocket"));
    CHECK(spec_ok(":59635"));

    CHECK(spec_fails(":0,password=on", "password"));
    CHECK(spec_fails(":0,password", "password"));
    CHECK(spec_fails(":0,share=ignore", "'share'"));
    CHECK(spec_fails(":0,tls-creds=tls0", "'tls-creds'"));
    CHECK(spec_fails(":0,sasl", "'sasl'"));
    CHECK(spec_fails(":0,lossy=on", "'lossy'"));
    CHECK(spec_fails("unix:/tmp/vnc.sock", "unix"));
    CHECK(spec_fails("localhost", "HOST:DISPLAY"));
    CHECK(spec_fails(":x", "DISPLAY"));
    CHECK(spec_fails(":59636", "DISPLAY"));
    CHECK(spec_fails("::1:0", "brackets"));
    CHECK(spec_fails("[::1:0", "[ADDRESS]"));
    CHECK(spec_fails(":5,to=3", "to="));
    CHECK(spec_fails(":5,to=many", "to"));
    CHECK(spec_fails(":0,websocket=maybe", "websocket"));
    CHECK(spec_fails(":0,websocket=70000", "websocket"));
    CHECK(spec_fails("websocket=on", "HOST:DISPLAY"));
}

/* ---- ports ---- */

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

TEST(ports)
{
    struct error err = { 0 };
    CHECK_EQ(vnc_start("none", "-vnc", &err), 0);
    CHECK_EQ(vnc_port(), (uint64_t)-1);

    /* Find a free display from 180 up and take its port ourselves. */
    int d = 180, busy = -1;
    for (; d < 260 && busy < 0; d++) {
        busy = listen_on(5900 + d);
    }
    d--;
    CHECK(busy >= 0);
    char spec[64];
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", d);
    CHECK_EQ(vnc_start(spec, "-vnc", &err), (uint64_t)-EADDRINUSE);
    CHECK(strstr(err.msg, "-vnc: ") == err.msg);
    CHECK(strstr(err.msg, "in use") != NULL);
    CHECK_EQ(vnc_port(), (uint64_t)-1);

    snprintf(spec, sizeof(spec), "127.0.0.1:%d,to=%d", d, d + 40);
    err = (struct error){ 0 };
    CHECK_EQ(vnc_start(spec, "-vnc", &err), 0);
    CHECK(vnc_port() > 5900 + d && vnc_port() <= 5900 + d + 40);
    CHECK_EQ(vnc_websocket_port(), (uint64_t)-1);
    CHECK_EQ(vnc_start(spec, "-vnc", &err), (uint64_t)-EBUSY);
    vnc_stop();
    CHECK_EQ(vnc_port(), (uint64_t)-1);
    close(busy);

    /* websocket=on: 5700 + the same display; a display whose WebSocket
     * port is taken is skipped as a whole. */
    busy = listen_on(5700 + d);
    CHECK(busy >= 0);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d,to=%d,websocket=on", d, d + 40);
    CHECK_EQ(vnc_start(spec, "-vnc", &err), 0);
    CHECK(vnc_port() > 5900 + d && vnc_port() <= 5900 + d + 40);
    CHECK_EQ(vnc_websocket_port(), vnc_port() - 200);
    vnc_stop();
    close(busy);
}

/* ---- an RFB client on a thread ---- */

static int port;
static bool client_ok;
static uint32_t keys[16][2];
static unsigned nkeys;
static uint32_t ptr[3];
static unsigned nptr;

static void sink_key(void *opaque, uint32_t code, bool down)
{
    (void)opaque;
    if (nkeys < 16) {
        keys[nkeys][0] = code;
        keys[nkeys][1] = down;
        nkeys++;
    }
    /* The last event the client causes: 'b' released when it goes. */
    if (code == 48 && !down) {
        loop_quit();
    }
}

static void sink_pointer(void *opaque, uint32_t x, uint32_t y, uint32_t b)
{
    (void)opaque;
    ptr[0] = x;
    ptr[1] = y;
    ptr[2] = b;
    nptr++;
}

static bool rd(int fd, void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static bool wr(int fd, const void *buf, size_t n)
{
    return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n;
}

static bool fbur(int fd, bool incremental, uint16_t x, uint16_t y, uint16_t w,
                 uint16_t h)
{
    uint8_t m[10] = { 3,        incremental, x >> 8,   x & 0xff, y >> 8,
                      y & 0xff, w >> 8,      w & 0xff, h >> 8,   h & 0xff };
    return wr(fd, m, sizeof(m));
}

/* Read one FramebufferUpdate of raw rectangles into fb (W x H, RGBX as
 * the client asked). */
static bool read_update(int fd, uint8_t *fb)
{
    uint8_t hdr[4];
    if (!rd(fd, hdr, 4) || hdr[0] != 0) {
        return false;
    }
    unsigned n = (unsigned)hdr[2] << 8 | hdr[3];
    for (unsigned i = 0; i < n; i++) {
        uint8_t r[12];
        if (!rd(fd, r, 12)) {
            return false;
        }
        unsigned x = r[0] << 8 | r[1], y = r[2] << 8 | r[3];
        unsigned w = r[4] << 8 | r[5], h = r[6] << 8 | r[7];
        uint32_t enc = (uint32_t)r[8] << 24 | r[9] << 16 | r[10] << 8 | r[11];
        if (enc != 0 || x + w > W || y + h > H) {
            printf("  unexpected rect %u,%u %ux%u enc %d\n", x, y, w, h,
                   (int)enc);
            return false;
        }
        for (unsigned row = 0; row < h; row++) {
            if (!rd(fd, fb + ((y + row) * W + x) * 4, (size_t)w * 4)) {
                return false;
            }
        }
    }
    return true;
}

static bool fb_matches(const uint8_t *fb, int32_t fx, int32_t fy, uint32_t fw,
                       uint32_t fh, uint32_t rgb, bool verbose)
{
    for (uint32_t y = 0; y < H; y++) {
        for (uint32_t x = 0; x < W; x++) {
            bool in = (int32_t)x >= fx && (int32_t)x < fx + (int32_t)fw &&
                      (int32_t)y >= fy && (int32_t)y < fy + (int32_t)fh;
            uint32_t want = in ? rgb : pix(x, y);
            const uint8_t *p = fb + (y * W + x) * 4;
            uint32_t got = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
            if (got != want) {
                if (verbose) {
                    printf("  pixel %u,%u: %06x, want %06x\n", x, y, got, want);
                }
                return false;
            }
        }
    }
    return true;
}

static void *client(void *arg)
{
    (void)arg;
    static uint8_t fb[W * H * 4];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    uint8_t buf[64];
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    /* Version, security None, ClientInit shared, ServerInit. */
    ok = ok && rd(fd, buf, 12) && memcmp(buf, "RFB 003.008\n", 12) == 0;
    ok = ok && wr(fd, "RFB 003.008\n", 12);
    ok = ok && rd(fd, buf, 2) && buf[0] == 1 && buf[1] == 1;
    ok = ok && wr(fd, "\x01", 1);
    ok = ok && rd(fd, buf, 4) && !memcmp(buf, "\0\0\0\0", 4);
    ok = ok && wr(fd, "\x01", 1);
    ok = ok && rd(fd, buf, 24);
    if (ok) {
        /* w, h; 32 bpp, depth 24, little-endian, true colour, 255 x3,
         * red at 16, green 8, blue 0 (the console's layout). */
        static const uint8_t want[24] = { 0,   W, 0,   H, 32,  24, 0, 1, 0,
                                          255, 0, 255, 0, 255, 16, 8, 0 };
        ok = memcmp(buf, want, 17) == 0;
        uint32_t nlen =
            (uint32_t)buf[20] << 24 | buf[21] << 16 | buf[22] << 8 | buf[23];
        ok = ok && nlen == 5 && rd(fd, buf, 5) && !memcmp(buf, "swede", 5);
    }
    /* Ask for R, G, B, X bytes (red at 0): libvncserver translates. */
    static const uint8_t spf[20] = { 0,   0, 0,   0, 32,  24, 0, 1, 0,
                                     255, 0, 255, 0, 255, 0,  8, 16 };
    static const uint8_t enc[8] = { 2, 0, 0, 1, 0, 0, 0, 0 }; /* Raw */
    ok = ok && wr(fd, spf, 20) && wr(fd, enc, 8);
    ok = ok && fbur(fd, false, 0, 0, W, H) && read_update(fd, fb);
    ok = ok && fb_matches(fb, 0, 0, 0, 0, 0, true);
    if (!ok) {
        printf("  handshake or first update failed\n");
    }

    /* Damage: the main thread fills a rectangle a little later;
     * incremental updates until it shows (the console may also resend
     * the whole picture first). */
    bool seen = false;
    for (int i = 0; ok && !seen && i < 10; i++) {
        ok = fbur(fd, true, 0, 0, W, H) && read_update(fd, fb);
        seen = ok && fb_matches(fb, 10, 20, 30, 5, 0x123456, false);
    }
    ok = ok && seen;
    if (!ok) {
        fb_matches(fb, 10, 20, 30, 5, 0x123456, true);
        printf("  update after damage failed\n");
    }

    /* 'a' down and up, the pointer at the far corner with the right
     * button, then a small update as a barrier. */
    static const uint8_t ev[] = {
        4, 1, 0, 0, 0,   0, 0, 'a', 4,     0, 0,
        0, 0, 0, 0, 'a', 5, 4, 0,   W - 1, 0, H - 1,
    };
    ok = ok && wr(fd, ev, sizeof(ev));
    ok = ok && fbur(fd, false, 0, 0, 1, 1) && read_update(fd, fb);
    if (!ok) {
        printf("  no answer after input events\n");
    }
    /* A WebSocket client meanwhile: the upgrade and the RFB version in
     * a binary frame (and, under ASan, its context freed when it goes). */
    bool ws_ok = false;
    int ws = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ws, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (ok && connect(ws, (struct sockaddr *)&a, sizeof(a)) == 0) {
        static const char req[] =
            "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nOrigin: http://127.0.0.1\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n";
        char head[512];
        size_t n = 0;
        bool sent = wr(ws, req, sizeof(req) - 1);
        while (sent && n < sizeof(head) - 1 &&
               (n < 4 || memcmp(head + n - 4, "\r\n\r\n", 4) != 0) &&
               rd(ws, head + n, 1)) {
            n++;
        }
        head[n] = '\0';
        /* RFC 6455's example key and its accept value. */
        ws_ok = strncmp(head, "HTTP/1.1 101", 12) == 0 &&
                strstr(head, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") &&
                rd(ws, buf, 14) && buf[0] == 0x82 && buf[1] == 12 &&
                memcmp(buf + 2, "RFB 003.008\n", 12) == 0;
    }
    close(ws);
    if (!ws_ok) {
        printf("  WebSocket handshake failed\n");
    }
    ok = ok && ws_ok;

    /* 'b' held when the client goes. */
    ok = ok && wr(fd, "\x04\x01\0\0\0\0\0b", 8);
    ok = ok && fbur(fd, false, 0, 0, 1, 1) && read_update(fd, fb);
    if (!ok) {
        printf("  no answer after the last key\n");
    }
    close(fd);
    client_ok = ok;
    return NULL;
}

static struct loop_timer *watchdog, *damage_timer;
static bool watchdog_fired;

static void on_watchdog(void *opaque)
{
    (void)opaque;
    watchdog_fired = true;
    loop_quit();
}

static void on_damage_timer(void *opaque)
{
    (void)opaque;
    draw(10, 20, 30, 5, true, 0x123456);
}

TEST(client)
{
    int fds_before = count_fds();
    struct error err = { 0 };
    CHECK_EQ(vnc_start("127.0.0.1:120,to=179", "-vnc", &err), 0);
    port = vnc_port();
    CHECK(port >= 6020 && port <= 6079);

    /* The client's second (incremental) request waits for damage: make
     * some a little later. */
    damage_timer = loop_timer_new(on_damage_timer, NULL);
    loop_timer_arm(damage_timer, loop_now_ns() + 300000000u);
    watchdog = loop_timer_new(on_watchdog, NULL);
    loop_timer_arm(watchdog, loop_now_ns() + 20000000000u);
    pthread_t t;
    pthread_create(&t, NULL, client, NULL);
    loop_run();
    pthread_join(t, NULL);
    loop_timer_free(watchdog);
    loop_timer_free(damage_timer);
    CHECK(!watchdog_fired);
    CHECK(client_ok);

    CHECK_EQ(nkeys, 4);
    CHECK_EQ(keys[0][0], 30); /* KEY_A */
    CHECK_EQ(keys[0][1], 1);
    CHECK_EQ(keys[1][0], 30);
    CHECK_EQ(keys[1][1], 0);
    CHECK_EQ(keys[2][0], 48); /* KEY_B, released by the disconnect */
    CHECK_EQ(keys[2][1], 1);
    CHECK_EQ(keys[3][0], 48);
    CHECK_EQ(keys[3][1], 0);
    CHECK_EQ(nptr, 1);
    CHECK_EQ(ptr[0], 0x7fff);
    CHECK_EQ(ptr[1], 0x7fff);
    CHECK_EQ(ptr[2], 4); /* UI_BUTTON_RIGHT */

    vnc_stop();
    CHECK_EQ(count_fds(), fds_before);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("%s\n", err.msg);
        return 1;
    }
    static const struct ui_input_sink sink = {
        .key = sink_key,
        .pointer = sink_pointer,
    };
    ui_input_add_sink(&sink);
    con = ui_console_new(NULL, "virtio-gpu-device", 0, NULL, NULL);
    ui_console_resize(con, W, H);
    draw(0, 0, W, H, false, 0);

    RUN(spec);
    RUN(ports);
    RUN(client);
    ui_shutdown();
    HARNESS_END();
}
