// SPDX-License-Identifier: MIT
/*
 * weston-test-seat: a weston 10 module giving the headless backend a seat
 * and the tests a way to the clipboard.
 *
 * weston's headless backend creates no wl_seat, so clients get no keyboard,
 * no keymap and no wl_data_device selection, and kiosk-shell, which puts a
 * toplevel on screen only when it activates it for a seat, shows nothing.
 * This module adds one seat, "swede-test-seat", with a keyboard (the
 * compositor's default keymap) and, unless SWEDE_TEST_SEAT_POINTER=0, a
 * pointer. The shell sees it through seat_created_signal and gives keyboard
 * focus to the toplevels it activates. No input is ever injected.
 *
 * When SWEDE_TEST_SEAT_CONTROL names a path, the module also listens there
 * on a Unix stream socket, one request per connection (the client sends
 * the request, shuts down its writing side and reads the reply):
 *
 *   "COPY\n" + text   the compositor itself owns the selection, offering
 *                     text as text/plain;charset=utf-8 and the usual
 *                     aliases; reply "OK\n" once set (the focused client
 *                     has been sent the new selection by then)
 *   "PASTE\n"         reply "OK <mime>\n" with, as SCM_RIGHTS, the read end
 *                     of a pipe the selection's owner writes the text to
 *                     (until EOF); "NONE\n" without a selection; "NOTEXT\n"
 *                     when it offers no text type
 *   "FOCUS\n"         reply "OK <pid>\n", the pid of the client with
 *                     keyboard focus, 0 for none
 *
 * Unlike wl-copy/wl-paste this maps no surface, so it never moves focus.
 * There is no way to clear the selection: libweston's own clipboard
 * (libweston/clipboard.c, on every seat) reads each new selection's first
 * type at once and sets its copy again whenever the selection goes away.
 *
 * Serials: weston_seat_set_selection() ignores a request whose serial is
 * not newer than the current selection's (newer: by 1 to 2^31 + 1, modulo
 * 2^32). A test client has no input events, so it can only use its (old)
 * keyboard-enter serial, and would be refused after any newer selection,
 * or after its own selection with that serial. After every selection
 * change this module therefore sets the seat's selection_serial a quarter
 * of the serial space back: any later set_selection whose serial is
 * within 2^30 of the current one wins, old or not.
 *
 * Load it with: weston --modules=/path/to/weston-test-seat.so
 */
#include <errno.h>
#include <fcntl.h>
#include <libweston/libweston.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * Exported by libweston-10.so but declared only in its private header
 * libweston/libweston-internal.h, which libweston-10-dev doesn't install.
 * A NULL keymap makes weston_seat_init_keyboard() use the compositor's
 * global keymap (built from its xkb rule names).
 */
void weston_seat_init(struct weston_seat *seat, struct weston_compositor *ec,
                      const char *seat_name);
void weston_seat_release(struct weston_seat *seat);
int weston_seat_init_keyboard(struct weston_seat *seat,
                              struct xkb_keymap *keymap);
int weston_seat_init_pointer(struct weston_seat *seat);

#define SEAT_NAME   "swede-test-seat"
#define MAX_REQUEST (1 << 20)

/* Offered for a COPY, and the order PASTE prefers them in. */
static const char *const text_types[] = {
    "text/plain;charset=utf-8", "UTF8_STRING", "text/plain", "TEXT", "STRING",
};
#define N_TEXT_TYPES (sizeof(text_types) / sizeof(text_types[0]))

struct test_seat {
    struct weston_seat seat;
    struct wl_event_loop *loop;
    struct wl_listener compositor_destroy;
    struct wl_listener selection;
    int control_fd;
    struct wl_event_source *control_source;
    char *control_path;
};

/* A COPY's selection: the compositor as the data source. */
struct text_source {
    struct weston_data_source base;
    struct wl_event_loop *loop;
    char *text;
    size_t len;
};

/* One transfer of a text_source's text to a reader's fd. */
struct text_writer {
    struct wl_event_source *source;
    int fd;
    char *data;
    size_t len, off;
};

static void writer_free(struct text_writer *w)
{
    if (w->source) {
        wl_event_source_remove(w->source);
    }
    close(w->fd);
    free(w->data);
    free(w);
}

/* Write what the fd takes without blocking; true when finished (done or
 * failed), false when waiting for the fd to become writable again. */
static bool writer_write(struct text_writer *w)
{
    while (w->off < w->len) {
        ssize_t n = write(w->fd, w->data + w->off, w->len - w->off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN) {
            return false;
        }
        if (n <= 0) {
            return true;
        }
        w->off += (size_t)n;
    }
    return true;
}

static int writer_writable(int fd, uint32_t mask, void *data)
{
    struct text_writer *w = data;

    (void)fd;
    (void)mask;
    if (writer_write(w)) {
        writer_free(w);
    }
    return 0;
}

static void text_source_send(struct weston_data_source *base,
                             const char *mime_type, int32_t fd)
{
    struct text_source *ts = wl_container_of(base, ts, base);
    struct text_writer *w = calloc(1, sizeof(*w));

    (void)mime_type;
    if (!w || !(w->data = malloc(ts->len + 1))) {
        free(w);
        close(fd);
        return;
    }
    memcpy(w->data, ts->text, ts->len);
    w->len = ts->len;
    w->fd = fd;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (writer_write(w)) {
        writer_free(w);
        return;
    }
    /* The reader is slow: finish from the event loop, never blocking. */
    w->source = wl_event_loop_add_fd(ts->loop, fd, WL_EVENT_WRITABLE,
                                     writer_writable, w);
    if (!w->source) {
        writer_free(w);
    }
}

static void text_source_accept(struct weston_data_source *base, uint32_t serial,
                               const char *mime_type)
{
    (void)base;
    (void)serial;
    (void)mime_type;
}

static void text_source_free(void *data)
{
    struct text_source *ts = data;
    char **types = ts->base.mime_types.data;

    /* Offers still pointing at the source forget it. */
    wl_signal_emit(&ts->base.destroy_signal, &ts->base);
    for (size_t i = 0; i < ts->base.mime_types.size / sizeof(*types); i++) {
        free(types[i]);
    }
    wl_array_release(&ts->base.mime_types);
    free(ts->text);
    free(ts);
}

static void text_source_cancel(struct weston_data_source *base)
{
    struct text_source *ts = wl_container_of(base, ts, base);

    /* Replaced: weston still unlinks its listener from our destroy_signal
     * after this returns, so free from an idle callback. */
    wl_event_loop_add_idle(ts->loop, text_source_free, ts);
}

static struct text_source *text_source_create(struct wl_event_loop *loop,
                                              const char *text, size_t len)
{
    struct text_source *ts = calloc(1, sizeof(*ts));

    if (!ts || !(ts->text = malloc(len + 1))) {
        free(ts);
        return NULL;
    }
    memcpy(ts->text, text, len);
    ts->len = len;
    ts->loop = loop;
    wl_signal_init(&ts->base.destroy_signal);
    wl_array_init(&ts->base.mime_types);
    for (size_t i = 0; i < N_TEXT_TYPES; i++) {
        char **p = wl_array_add(&ts->base.mime_types, sizeof(*p));
        if (!p || !(*p = strdup(text_types[i]))) {
            text_source_free(ts); /* frees the strings so far (and NULL) */
            return NULL;
        }
    }
    ts->base.accept = text_source_accept;
    ts->base.send = text_source_send;
    ts->base.cancel = text_source_cancel;
    return ts;
}

/* See "Serials" at the top. */
static void selection_changed(struct wl_listener *listener, void *data)
{
    struct test_seat *ts = wl_container_of(listener, ts, selection);
    struct wl_display *display = ts->seat.compositor->wl_display;

    (void)data;
    ts->seat.selection_serial = wl_display_get_serial(display) - 0x40000000u;
}

static void reply(int conn, const char *text, int fd)
{
    struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        struct cmsghdr *cmsg;
        memset(&u, 0, sizeof(u));
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof(u.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    if (sendmsg(conn, &msg, MSG_NOSIGNAL) < 0) {
        weston_log("weston-test-seat: reply: %s\n", strerror(errno));
    }
}

static void do_copy(struct test_seat *ts, int conn, const char *text,
                    size_t len)
{
    struct text_source *src = text_source_create(ts->loop, text, len);
    struct wl_display *display = ts->seat.compositor->wl_display;

    if (!src) {
        reply(conn, "ERR out of memory\n", -1);
        return;
    }
    weston_seat_set_selection(&ts->seat, &src->base,
                              wl_display_next_serial(display));
    reply(conn, "OK\n", -1);
}

static void do_paste(struct test_seat *ts, int conn)
{
    struct weston_data_source *src = ts->seat.selection_data_source;
    const char *mime = NULL;
    char **types, line[128];
    size_t n;
    int pipefd[2];

    if (!src) {
        reply(conn, "NONE\n", -1);
        return;
    }
    types = src->mime_types.data;
    n = src->mime_types.size / sizeof(*types);
    for (size_t i = 0; i < N_TEXT_TYPES && !mime; i++) {
        for (size_t j = 0; j < n; j++) {
            if (strcmp(types[j], text_types[i]) == 0) {
                mime = text_types[i];
                break;
            }
        }
    }
    if (!mime) {
        reply(conn, "NOTEXT\n", -1);
        return;
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        reply(conn, "ERR pipe\n", -1);
        return;
    }
    /* send() owns the write end: a client source passes it on in
     * wl_data_source.send and closes it, ours writes and closes it. */
    src->send(src, mime, pipefd[1]);
    snprintf(line, sizeof(line), "OK %s\n", mime);
    reply(conn, line, pipefd[0]);
    close(pipefd[0]);
}

static void do_focus(struct test_seat *ts, int conn)
{
    struct weston_keyboard *kb = weston_seat_get_keyboard(&ts->seat);
    pid_t pid = 0;
    char line[32];

    if (kb && kb->focus && kb->focus->resource) {
        wl_client_get_credentials(wl_resource_get_client(kb->focus->resource),
                                  &pid, NULL, NULL);
    }
    snprintf(line, sizeof(line), "OK %d\n", (int)pid);
    reply(conn, line, -1);
}

/* Read a whole request (until the client's EOF); NULL on error. */
static char *read_request(int conn, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);

    while (buf) {
        ssize_t r;
        if (n == cap) {
            char *bigger = cap < MAX_REQUEST ? realloc(buf, 2 * cap + 1) : NULL;
            if (!bigger) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        r = read(conn, buf + n, cap - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            break;
        }
        if (r == 0) {
            buf[n] = '\0';
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

static int control_readable(int fd, uint32_t mask, void *data)
{
    struct test_seat *ts = data;
    /* A stuck client must not hang the compositor for long. */
    struct timeval tv = { .tv_sec = 2 };
    size_t len;
    char *req;
    int conn;

    (void)mask;
    conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
        return 0;
    }
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    req = read_request(conn, &len);
    if (!req) {
        reply(conn, "ERR bad request\n", -1);
    } else if (strncmp(req, "COPY\n", 5) == 0) {
        do_copy(ts, conn, req + 5, len - 5);
    } else if (strcmp(req, "PASTE\n") == 0) {
        do_paste(ts, conn);
    } else if (strcmp(req, "FOCUS\n") == 0) {
        do_focus(ts, conn);
    } else {
        reply(conn, "ERR unknown request\n", -1);
    }
    free(req);
    close(conn);
    return 0;
}

static int control_listen(struct test_seat *ts, const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };

    if (strlen(path) >= sizeof(addr.sun_path)) {
        weston_log("weston-test-seat: control path too long: %s\n", path);
        return -1;
    }
    strcpy(addr.sun_path, path);
    ts->control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (ts->control_fd < 0 ||
        bind(ts->control_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(ts->control_fd, 8) < 0) {
        weston_log("weston-test-seat: control socket %s: %s\n", path,
                   strerror(errno));
        return -1;
    }
    ts->control_path = strdup(path);
    ts->control_source = wl_event_loop_add_fd(
        ts->loop, ts->control_fd, WL_EVENT_READABLE, control_readable, ts);
    return ts->control_path && ts->control_source ? 0 : -1;
}

static void control_close(struct test_seat *ts)
{
    if (ts->control_source) {
        wl_event_source_remove(ts->control_source);
    }
    if (ts->control_fd >= 0) {
        close(ts->control_fd);
    }
    if (ts->control_path) {
        unlink(ts->control_path);
        free(ts->control_path);
    }
}

static void test_seat_destroy(struct wl_listener *listener, void *data)
{
    struct test_seat *ts = wl_container_of(listener, ts, compositor_destroy);

    (void)data;
    wl_list_remove(&ts->compositor_destroy.link);
    wl_list_remove(&ts->selection.link);
    control_close(ts);
    /* Emits the seat's destroy_signal (the shell forgets it) and frees the
     * keyboard and pointer. */
    weston_seat_release(&ts->seat);
    free(ts);
}

WL_EXPORT int wet_module_init(struct weston_compositor *compositor, int *argc,
                              char *argv[])
{
    const char *pointer = getenv("SWEDE_TEST_SEAT_POINTER");
    const char *control = getenv("SWEDE_TEST_SEAT_CONTROL");
    bool want_pointer = !pointer || strcmp(pointer, "0") != 0;
    struct test_seat *ts;

    (void)argc;
    (void)argv;
    ts = calloc(1, sizeof(*ts));
    if (!ts) {
        return -1;
    }
    ts->loop = wl_display_get_event_loop(compositor->wl_display);
    ts->control_fd = -1;
    /* Adds the seat to compositor->seat_list, offers the wl_seat global and
     * emits seat_created_signal (kiosk-shell takes the first seat). */
    weston_seat_init(&ts->seat, compositor, SEAT_NAME);
    ts->selection.notify = selection_changed;
    wl_signal_add(&ts->seat.selection_signal, &ts->selection);
    weston_compositor_add_destroy_listener_once(
        compositor, &ts->compositor_destroy, test_seat_destroy);
    if (weston_seat_init_keyboard(&ts->seat, NULL) < 0 ||
        (want_pointer && weston_seat_init_pointer(&ts->seat) < 0)) {
        weston_log("weston-test-seat: cannot create the input devices\n");
        return -1;
    }
    if (control) {
        /* A reader that closes its pipe early must not kill weston. */
        signal(SIGPIPE, SIG_IGN);
        if (control_listen(ts, control) < 0) {
            return -1;
        }
    }
    weston_log("weston-test-seat: seat '%s' with a keyboard%s%s%s\n", SEAT_NAME,
               want_pointer ? " and a pointer" : "",
               control ? ", control socket " : "", control ? control : "");
    return 0;
}
