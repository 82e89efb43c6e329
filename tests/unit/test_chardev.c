/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/chardev: spec errors name the option, file:PATH
 * truncates and receives output, and a unix server socket carries output
 * to the client and input to the receiver only as far as can_read allows,
 * resuming after chardev_accept_input; a client that does not read for a
 * while still gets all output, in order, from the queue. Also the guest
 * log's rate limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/chardev.h"
#include "core/error.h"
#include "core/log.h"
#include "core/loop.h"
#include "harness.h"

static char tmpdir[64];

TEST(bad_specs)
{
    struct error err = { 0 };
    CHECK(chardev_open_serial_spec("bogus", "-serial", &err) == NULL);
    CHECK(err_is_set(&err) && strstr(err.msg, "-serial") &&
          strstr(err.msg, "bogus"));

    struct error e2 = { 0 };
    CHECK(chardev_open_serial_spec("file:/nonexistent-dir/x", "-serial", &e2) ==
          NULL);
    CHECK_EQ(e2.code, -ENOENT);
    CHECK(strstr(e2.msg, "-serial") && strstr(e2.msg, "/nonexistent-dir/x"));

    struct error e3 = { 0 };
    CHECK(chardev_open_serial_spec("unix:/tmp/x.sock,server=on,wait=on",
                                   "-chardev", &e3) == NULL);
    CHECK(strstr(e3.msg, "-chardev") && strstr(e3.msg, "wait"));

    struct error e4 = { 0 };
    CHECK(chardev_open_serial_spec(
              "unix:/nonexistent-dir/s.sock,server=on,wait=off", "-serial",
              &e4) == NULL);
    CHECK(strstr(e4.msg, "-serial") && strstr(e4.msg, "nonexistent-dir"));

    struct error e5 = { 0 };
    CHECK(chardev_open_serial_spec("unix:/tmp/x.sock,server=on,foo=1",
                                   "-serial", &e5) == NULL);
    CHECK(strstr(e5.msg, "foo") != NULL);
}

TEST(file_and_null)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/out.txt", tmpdir);
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK_EQ(write(fd, "old contents that must go", 25), 25);
    close(fd);

    char spec[160];
    snprintf(spec, sizeof(spec), "file:%s", path);
    struct error err = { 0 };
    struct chardev *chr = chardev_open_serial_spec(spec, "-serial", &err);
    CHECK(chr != NULL);
    if (!chr) {
        return;
    }
    chardev_write(chr, (const uint8_t *)"hello\n", 6);
    chardev_close(chr);
    char buf[64] = { 0 };
    fd = open(path, O_RDONLY);
    CHECK_EQ(read(fd, buf, sizeof(buf)), 6);
    close(fd);
    CHECK(strcmp(buf, "hello\n") == 0);

    struct chardev *n = chardev_open_serial_spec("null", "-serial", &err);
    CHECK(n != NULL);
    chardev_write(n, (const uint8_t *)"x", 1);
    chardev_close(n);
}

struct sink {
    size_t room;
    char got[256];
    size_t n;
};

static size_t sink_can_read(void *opaque)
{
    struct sink *s = opaque;
    return s->room;
}

static void sink_read(void *opaque, const uint8_t *buf, size_t n)
{
    struct sink *s = opaque;
    CHECK(n <= s->room);
    memcpy(s->got + s->n, buf, n);
    s->n += n;
    s->room -= n;
}

static void quit_cb(void *opaque)
{
    (void)opaque;
    loop_quit();
}

/* Run the loop for about ms milliseconds. */
static void run_for(unsigned ms)
{
    struct loop_timer *t = loop_timer_new(quit_cb, NULL);
    loop_timer_arm(t, loop_now_ns() + ms * 1000000ull);
    loop_run();
    loop_timer_free(t);
}

TEST(unix_server)
{
    char path[128], spec[200];
    snprintf(path, sizeof(path), "%s/s.sock", tmpdir);
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    struct error err = { 0 };
    struct chardev *chr = chardev_open_serial_spec(spec, "-serial", &err);
    CHECK(chr != NULL);
    if (!chr) {
        printf("  %s\n", err.msg);
        return;
    }
    struct sink s = { .room = 3 };
    struct chardev_receiver rx = { .can_read = sink_can_read,
                                   .read = sink_read,
                                   .opaque = &s };
    chardev_set_receiver(chr, &rx);

    /* No client yet: output is dropped, not blocked on. */
    chardev_write(chr, (const uint8_t *)"lost", 4);

    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, path);
    CHECK_EQ(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
    run_for(20); /* accept */

    chardev_write(chr, (const uint8_t *)"out", 3);
    char buf[16] = { 0 };
    CHECK_EQ(read(c, buf, sizeof(buf)), 3);
    CHECK(memcmp(buf, "out", 3) == 0);

    CHECK_EQ(write(c, "abcdefgh", 8), 8);
    run_for(20);
    CHECK_EQ(s.n, 3); /* can_read said 3 */
    s.room = 100;
    chardev_accept_input(chr);
    run_for(20);
    CHECK_EQ(s.n, 8);
    CHECK(memcmp(s.got, "abcdefgh", 8) == 0);

    /* Client leaves; a second one is accepted and gets output. */
    close(c);
    run_for(20);
    chardev_write(chr, (const uint8_t *)"gone", 4);
    int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK_EQ(connect(c2, (struct sockaddr *)&sun, sizeof(sun)), 0);
    run_for(20);
    chardev_write(chr, (const uint8_t *)"two", 3);
    memset(buf, 0, sizeof(buf));
    CHECK_EQ(read(c2, buf, sizeof(buf)), 3);
    CHECK(memcmp(buf, "two", 3) == 0);
    close(c2);
    run_for(10);
    /* Closed with a deferred accept still queued: it must not run on the
     * freed chardev (ASan). */
    chardev_accept_input(chr);
    chardev_close(chr);
    CHECK(access(path, F_OK) != 0);
    run_for(10);
}

/* A client that reads late gets every byte of many small writes, in
 * order (once, each write cost the socket a buffer; when those ran out
 * the rest was dropped). */
TEST(unix_slow_reader)
{
    char path[128], spec[200];
    snprintf(path, sizeof(path), "%s/slow.sock", tmpdir);
    snprintf(spec, sizeof(spec), "unix:%s,server=on,wait=off", path);
    struct error err = { 0 };
    struct chardev *chr = chardev_open_serial_spec(spec, "-serial", &err);
    CHECK(chr != NULL);
    if (!chr) {
        return;
    }
    struct sink s = { .room = 0 };
    struct chardev_receiver rx = { .can_read = sink_can_read,
                                   .read = sink_read,
                                   .opaque = &s };
    chardev_set_receiver(chr, &rx);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    strcpy(sun.sun_path, path);
    CHECK_EQ(connect(c, (struct sockaddr *)&sun, sizeof(sun)), 0);
    run_for(20); /* accept */

    enum {
        LINES = 20000
    };
    for (unsigned i = 0; i < LINES; i++) {
        char line[16];
        int n = snprintf(line, sizeof(line), "%07u\n", i);
        chardev_write(chr, (const uint8_t *)line, (size_t)n);
    }
    /* Read everything while the loop sends the queue. */
    static char got[LINES * 8];
    size_t have = 0;
    for (int round = 0; round < 2000 && have < sizeof(got); round++) {
        run_for(2);
        ssize_t r;
        while ((r = recv(c, got + have, sizeof(got) - have, MSG_DONTWAIT)) >
               0) {
            have += (size_t)r;
        }
    }
    CHECK_EQ(have, sizeof(got));
    bool in_order = true;
    for (unsigned i = 0; i < LINES && in_order; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%07u\n", i);
        in_order = memcmp(got + 8 * i, want, 8) == 0;
    }
    CHECK(in_order);
    close(c);
    run_for(10);
    chardev_close(chr);
}

TEST(guest_log_rate_limit)
{
    /* Send the log to a file and count lines: a burst, then silence. */
    char path[128];
    snprintf(path, sizeof(path), "%s/log.txt", tmpdir);
    struct error err = { 0 };
    CHECK_EQ(log_set_file(path, &err), 0);
    uint64_t before = log_guest_count();
    for (int i = 0; i < 1000; i++) {
        log_guest("flood %d", i);
    }
    CHECK_EQ(log_guest_count() - before, 1000);
    FILE *f = fopen(path, "r");
    int lines = 0;
    char line[256];
    while (f && fgets(line, sizeof(line), f)) {
        lines++;
    }
    if (f) {
        fclose(f);
    }
    CHECK(lines >= LOG_GUEST_BURST && lines <= LOG_GUEST_BURST + 2);
    usleep(1000000 / LOG_GUEST_RATE + 10000);
    log_guest("after pause");
    f = fopen(path, "r");
    int suppressed = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strstr(line, "suppressed")) {
            suppressed = 1;
        }
    }
    if (f) {
        fclose(f);
    }
    CHECK(suppressed);

    bool help = false;
    struct error e2 = { 0 };
    CHECK_EQ(log_set_items("guest_errors,unimp,int", &help, &e2), 0);
    CHECK_EQ(log_mask, LOG_GUEST_ERROR | LOG_UNIMP | LOG_INT);
    CHECK(!help);
    CHECK(log_set_items("guest_errors,nosuch", &help, &e2) < 0);
    CHECK(strstr(e2.msg, "nosuch") != NULL);
}

int main(void)
{
    struct error err = { 0 };
    if (loop_init(&err) < 0) {
        printf("loop_init: %s\n", err.msg);
        return 1;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/swede-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        return 1;
    }
    RUN(bad_specs);
    RUN(file_and_null);
    RUN(unix_server);
    RUN(unix_slow_reader);
    RUN(guest_log_rate_limit);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0) {
        printf("could not remove %s\n", tmpdir);
    }
    HARNESS_END();
}
