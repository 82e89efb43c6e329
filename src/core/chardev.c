/* SPDX-License-Identifier: MIT */
/*
 * Character backends: stdio (raw tty, QEMU's -nographic Ctrl-A escapes),
 * null, file:PATH (output only) and unix:PATH,server=on,wait=off (one
 * client at a time). Input is read on the main-loop thread into a small
 * per-chardev buffer and handed to the receiver only as far as can_read()
 * allows; while bytes are pending the fd is not polled, so a full device
 * throttles the peer. Output comes from any thread (the vCPU) and never
 * waits long:
 *  - unix sockets are non-blocking; what the socket does not take at
 *    once is queued (up to CHARDEV_OUTQ_MAX per client, in order) and sent
 *    by the main loop when the socket is writable, so a monitor client
 *    that reads slowly still gets every reply. Beyond the cap, output for
 *    a client that stopped reading is dropped.
 *  - stdout stays blocking, because O_NONBLOCK belongs to the open file
 *    description that stdout shares with the shell and often with stdin;
 *    setting it would leak to other processes and survive a crash. Instead
 *    each write waits with poll() for room (bounded, see CHARDEV_STALL_MS)
 *    and writes at most PIPE_BUF bytes, which a pipe accepts without
 *    blocking once poll says it is writable. A pipe reader that is merely
 *    slow gets every byte; one that stopped reading costs the guest one
 *    stall, then output is dropped until the pipe drains.
 *  - files are regular files: writes don't block.
 * -chardev BACKEND,id=ID,... (chardev_open) offers the same backends with
 * QEMU's option names, plus pty: a pseudo-terminal whose slave name is
 * printed as QEMU does; swede keeps its own slave fd open so the master
 * never reports a hang-up, and output nobody reads is dropped once the
 * pty buffer is full. -chardev stdio has the Ctrl-A escapes only with
 * mux=on, as in QEMU; -serial stdio always has them.
 * Not here yet: client sockets, wait=on, the monitor mux (Ctrl-A c).
 */
#include "core/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"
#include "core/loop.h"
#include "core/options.h"
#include "core/runstate.h"

/* How long one chardev_write may wait for stdout to drain. */
#define CHARDEV_STALL_MS 200
#define CHARDEV_INBUF    1024
#define CHARDEV_ESCAPE   0x01 /* Ctrl-A */
/* Unix socket output queued while the peer does not read. */
#define CHARDEV_OUTQ_MAX (1u << 20)

enum chardev_kind {
    CHARDEV_NULL,
    CHARDEV_STDIO,
    CHARDEV_FILE,
    CHARDEV_UNIX,
    CHARDEV_PTY,
};

struct chardev {
    enum chardev_kind kind;
    const char *optname;

    /* Output side, guarded by out_lock (writers are any thread; the main
     * loop swaps the socket client under it). */
    pthread_mutex_t out_lock;
    int out_fd;
    void (*tap)(void *opaque, const uint8_t *buf, size_t n);
    void *tap_opaque;
    bool out_stalled; /* stdout: last write timed out, don't wait again */
    /* unix: output the socket did not take yet, sent from the main loop */
    uint8_t *outq;
    size_t outq_len, outq_cap;
    bool outq_armed;   /* a chardev_out_arm call is queued */
    bool outq_dropped; /* the cap was hit for this client (logged once) */

    /* Input side, main-loop thread only. */
    int in_fd;          /* -1: no input */
    bool in_watched;    /* in_fd registered with the loop */
    uint32_t in_events; /* registered: EPOLLIN while polled, EPOLLOUT */
    bool in_no_epoll;   /* stdin is a regular file: read without polling */
    bool in_eof;
    bool started; /* chardev_set_receiver was called */
    /* Frontends; input goes to fe[focus]. A slot with no read is empty. */
    struct chardev_receiver fe[CHARDEV_MAX_FRONTENDS];
    unsigned nfe, focus;
    uint8_t inbuf[CHARDEV_INBUF];
    size_t in_pos, in_len;
    bool got_escape;
    bool escapes; /* stdio: handle Ctrl-A escapes */

    /* pty: our own slave fd, kept open so the master never hangs up */
    int pty_slave;

    /* unix server */
    int listen_fd;
    bool listen_watched;
    char *path; /* unix socket, file or pty path (for chardev_filename) */

    int accept_queued; /* atomic: a chardev_accept_input call is queued */
};

static bool chardev_stdio_in_use;
static struct termios chardev_saved_tty;
static volatile sig_atomic_t chardev_tty_raw;

void chardev_restore_terminal(void)
{
    /* tcsetattr is async-signal-safe, so main may call this from a signal
     * handler as well as atexit. */
    if (chardev_tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &chardev_saved_tty);
        chardev_tty_raw = 0;
    }
}

static int chardev_tty_set_raw(bool signals)
{
    struct termios tty;
    if (tcgetattr(STDIN_FILENO, &chardev_saved_tty) < 0) {
        return -errno;
    }
    /* As QEMU's stdio backend with signal=off: no echo, no line editing,
     * Ctrl-C goes to the guest; output post-processing stays on so the
     * guest's "\n" still returns the carriage. */
    tty = chardev_saved_tty;
    tty.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
                               IGNCR | ICRNL | IXON);
    tty.c_oflag |= OPOST;
    tty.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
    if (signals) {
        tty.c_lflag |= ISIG; /* signal=on: Ctrl-C stops swede */
    }
    tty.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    tty.c_cflag |= CS8;
    tty.c_cc[VMIN] = 1;
    tty.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &tty) < 0) {
        return -errno;
    }
    chardev_tty_raw = 1;
    return 0;
}

static struct chardev *chardev_alloc(enum chardev_kind kind,
                                     const char *optname)
{
    struct chardev *chr = calloc(1, sizeof(*chr));
    if (!chr) {
        return NULL;
    }
    chr->kind = kind;
    chr->optname = optname;
    pthread_mutex_init(&chr->out_lock, NULL);
    chr->out_fd = -1;
    chr->in_fd = -1;
    chr->listen_fd = -1;
    chr->pty_slave = -1;
    return chr;
}

static struct chardev *chardev_open_stdio(const char *optname, bool signals,
                                          bool escapes, struct error *err)
{
    if (chardev_stdio_in_use) {
        err_set(err, -EBUSY,
                "%s: stdio is already used by another character device",
                optname);
        return NULL;
    }
    struct chardev *chr = chardev_alloc(CHARDEV_STDIO, optname);
    if (!chr) {
        err_set(err, -ENOMEM, "%s: out of memory", optname);
        return NULL;
    }
    if (isatty(STDIN_FILENO)) {
        int r = chardev_tty_set_raw(signals);
        if (r < 0) {
            free(chr);
            err_set(err, r, "%s: cannot set the terminal to raw mode: %s",
                    optname, strerror(-r));
            return NULL;
        }
    }
    /* A reader closing the pipe must end in EPIPE, not kill the process. */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
        signal(SIGPIPE, SIG_IGN);
    }
    chr->in_fd = STDIN_FILENO;
    chr->out_fd = STDOUT_FILENO;
    chr->escapes = escapes;
    chardev_stdio_in_use = true;
    return chr;
}

static struct chardev *chardev_open_file(const char *path, bool append,
                                         const char *optname, struct error *err)
{
    if (!*path) {
        err_set(err, -EINVAL, "%s: file: needs a path", optname);
        return NULL;
    }
    int fd = open(
        path, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC,
        0666);
    if (fd < 0) {
        err_set(err, -errno, "%s: cannot open '%s': %s", optname, path,
                strerror(errno));
        return NULL;
    }
    struct chardev *chr = chardev_alloc(CHARDEV_FILE, optname);
    if (!chr) {
        close(fd);
        err_set(err, -ENOMEM, "%s: out of memory", optname);
        return NULL;
    }
    chr->out_fd = fd;
    chr->path = strdup(path);
    return chr;
}

/* A unix server socket from parsed options path, server, wait, nowait
 * (known[] lists what else the caller accepts). */
static struct chardev *chardev_open_unix_opts(const struct opts *op,
                                              const char *const known[],
                                              const char *optname,
                                              struct error *err)
{
    const struct opts o = *op;
    struct chardev *chr = NULL;
    int fd = -1;
    bool server, wait, nowait;
    if (opts_check_known(&o, known, optname, err) < 0 ||
        opts_get_bool(&o, "server", false, &server, optname, err) < 0 ||
        opts_get_bool(&o, "nowait", false, &nowait, optname, err) < 0 ||
        opts_get_bool(&o, "wait", !nowait, &wait, optname, err) < 0) {
        goto out;
    }
    const char *path = opts_get(&o, "path");
    if (!path || !*path) {
        err_set(err, -EINVAL, "%s: unix: needs a socket path", optname);
        goto out;
    }
    if (!server) {
        err_set(err, -ENOTSUP,
                "%s: unix:%s: only server=on sockets are supported", optname,
                path);
        goto out;
    }
    if (wait) {
        err_set(err, -ENOTSUP,
                "%s: unix:%s: wait=on is not supported yet, add wait=off",
                optname, path);
        goto out;
    }
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sun.sun_path)) {
        err_set(err, -ENAMETOOLONG, "%s: unix socket path too long: '%s'",
                optname, path);
        goto out;
    }
    strcpy(sun.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err_set(err, -errno, "%s: socket: %s", optname, strerror(errno));
        goto out;
    }
    /* Like QEMU, replace a stale socket left by an earlier run; but never
     * unlink something that is not a socket. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        unlink(path);
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        listen(fd, 1) < 0) {
        err_set(err, -errno, "%s: cannot listen on unix socket '%s': %s",
                optname, path, strerror(errno));
        goto out;
    }
    chr = chardev_alloc(CHARDEV_UNIX, optname);
    char *p = strdup(path);
    if (!chr || !p) {
        free(chr);
        free(p);
        chr = NULL;
        unlink(path);
        err_set(err, -ENOMEM, "%s: out of memory", optname);
        goto out;
    }
    chr->path = p;
    chr->listen_fd = fd;
    fd = -1;
out:
    if (fd >= 0) {
        close(fd);
    }
    return chr;
}

static struct chardev *chardev_open_unix(const char *args, const char *optname,
                                         struct error *err)
{
    static const char *const known[] = { "path", "server", "wait", "nowait",
                                         NULL };
    struct opts o;
    if (opts_parse(&o, args, "path", optname, err) < 0) {
        return NULL;
    }
    struct chardev *chr = chardev_open_unix_opts(&o, known, optname, err);
    opts_free(&o);
    return chr;
}

struct chardev *chardev_open_serial_spec(const char *spec, const char *optname,
                                         struct error *err)
{
    if (!optname) {
        optname = "-serial";
    }
    if (strcmp(spec, "stdio") == 0) {
        return chardev_open_stdio(optname, false, true, err);
    }
    if (strcmp(spec, "null") == 0 || strcmp(spec, "none") == 0) {
        struct chardev *chr = chardev_alloc(CHARDEV_NULL, optname);
        if (!chr) {
            err_set(err, -ENOMEM, "%s: out of memory", optname);
        }
        return chr;
    }
    if (strncmp(spec, "file:", 5) == 0) {
        return chardev_open_file(spec + 5, false, optname, err);
    }
    if (strncmp(spec, "unix:", 5) == 0) {
        return chardev_open_unix(spec + 5, optname, err);
    }
    err_set(err, -EINVAL,
            "%s: unknown character device '%s' (expected stdio, null, "
            "file:PATH or unix:PATH,server=on,wait=off)",
            optname, spec);
    return NULL;
}

static struct chardev *chardev_open_pty(const char *id, const char *optname,
                                        struct error *err)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) {
        err_set(err, -errno, "%s: cannot open a pseudo-terminal: %s", optname,
                strerror(errno));
        return NULL;
    }
    const char *name = NULL;
    int s = -1;
    if (grantpt(m) == 0 && unlockpt(m) == 0 && (name = ptsname(m))) {
        s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    }
    struct termios tty;
    if (s < 0 || tcgetattr(s, &tty) < 0) {
        int e = errno ? errno : EIO;
        err_set(err, -e, "%s: cannot set up a pseudo-terminal: %s", optname,
                strerror(e));
        close(m);
        if (s >= 0) {
            close(s);
        }
        return NULL;
    }
    cfmakeraw(&tty);
    tcsetattr(s, TCSANOW, &tty);
    /* Output never blocks the guest: a full pty drops it. */
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    struct chardev *chr = chardev_alloc(CHARDEV_PTY, optname);
    if (!chr) {
        close(m);
        close(s);
        err_set(err, -ENOMEM, "%s: out of memory", optname);
        return NULL;
    }
    chr->in_fd = chr->out_fd = m;
    chr->pty_slave = s;
    chr->path = strdup(name);
    /* As QEMU, so scripts that look for this line keep working. */
    fprintf(stderr, "char device redirected to %s (label %s)\n", name, id);
    return chr;
}

struct chardev *chardev_open(const struct opts *o, struct error *err)
{
    const char *optname = "-chardev";
    const char *backend = opts_get(o, "backend");
    const char *id = opts_get(o, "id");
    if (!backend || !id || !*id) {
        err_set(err, -EINVAL, "%s: needs a backend and id=ID", optname);
        return NULL;
    }
    if (strcmp(backend, "stdio") == 0) {
        static const char *const known[] = { "backend", "id", "signal", "mux",
                                             NULL };
        bool signals, mux;
        if (opts_check_known(o, known, optname, err) < 0 ||
            opts_get_bool(o, "signal", true, &signals, optname, err) < 0 ||
            opts_get_bool(o, "mux", false, &mux, optname, err) < 0) {
            return NULL;
        }
        return chardev_open_stdio(optname, signals, mux, err);
    }
    if (strcmp(backend, "null") == 0) {
        static const char *const known[] = { "backend", "id", NULL };
        if (opts_check_known(o, known, optname, err) < 0) {
            return NULL;
        }
        struct chardev *chr = chardev_alloc(CHARDEV_NULL, optname);
        if (!chr) {
            err_set(err, -ENOMEM, "%s: out of memory", optname);
        }
        return chr;
    }
    if (strcmp(backend, "file") == 0) {
        static const char *const known[] = { "backend", "id", "path", "append",
                                             NULL };
        bool append;
        if (opts_check_known(o, known, optname, err) < 0 ||
            opts_get_bool(o, "append", false, &append, optname, err) < 0) {
            return NULL;
        }
        const char *path = opts_get(o, "path");
        return chardev_open_file(path ? path : "", append, optname, err);
    }
    if (strcmp(backend, "socket") == 0) {
        static const char *const known[] = { "backend", "id",   "path",
                                             "server",  "wait", "nowait",
                                             NULL };
        if (opts_get(o, "host") || opts_get(o, "port")) {
            err_set(err, -ENOTSUP,
                    "%s: socket,id=%s: only unix sockets (path=) are "
                    "supported",
                    optname, id);
            return NULL;
        }
        return chardev_open_unix_opts(o, known, optname, err);
    }
    if (strcmp(backend, "pty") == 0) {
        static const char *const known[] = { "backend", "id", NULL };
        if (opts_check_known(o, known, optname, err) < 0) {
            return NULL;
        }
        return chardev_open_pty(id, optname, err);
    }
    err_set(err, -EINVAL,
            "%s: unknown backend '%s' (expected stdio, socket, file, pty "
            "or null)",
            optname, backend);
    return NULL;
}

/* ---- output ---- */

static void chardev_write_stdout(struct chardev *chr, const uint8_t *buf,
                                 size_t n)
{
    int budget = chr->out_stalled ? 0 : CHARDEV_STALL_MS;
    while (n > 0) {
        struct pollfd pfd = { .fd = chr->out_fd, .events = POLLOUT };
        int r = poll(&pfd, 1, budget);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0 || (pfd.revents & (POLLERR | POLLNVAL))) {
            chr->out_stalled = true;
            return; /* slow or gone reader: drop the rest */
        }
        size_t chunk = n < PIPE_BUF ? n : PIPE_BUF;
        ssize_t w = write(chr->out_fd, buf, chunk);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            chr->out_stalled = true;
            return;
        }
        buf += w;
        n -= (size_t)w;
        chr->out_stalled = false;
        budget = CHARDEV_STALL_MS;
    }
}

static void chardev_unix_client_lost(void *opaque);
static void chardev_out_arm(void *opaque);

/* Queue what a unix socket did not take; out_lock held. */
static void chardev_outq_add(struct chardev *chr, const uint8_t *buf, size_t n)
{
    if (n > CHARDEV_OUTQ_MAX - chr->outq_len) {
        if (!chr->outq_dropped) {
            chr->outq_dropped = true;
            fprintf(stderr,
                    "swede: %s: the client does not read; dropping "
                    "output beyond %u queued bytes\n",
                    chr->path ? chr->path : "socket", CHARDEV_OUTQ_MAX);
        }
        n = CHARDEV_OUTQ_MAX - chr->outq_len;
        if (n == 0) {
            return;
        }
    }
    if (chr->outq_len + n > chr->outq_cap) {
        size_t cap = chr->outq_cap ? chr->outq_cap : 4096;
        while (cap < chr->outq_len + n) {
            cap *= 2;
        }
        uint8_t *q = realloc(chr->outq, cap);
        if (!q) {
            return; /* out of memory: this output is lost */
        }
        chr->outq = q;
        chr->outq_cap = cap;
    }
    memcpy(chr->outq + chr->outq_len, buf, n);
    chr->outq_len += n;
    if (!chr->outq_armed) {
        chr->outq_armed = true;
        loop_call(chardev_out_arm, chr);
    }
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t n)
{
    if (!chr || n == 0) {
        return;
    }
    pthread_mutex_lock(&chr->out_lock);
    if (chr->tap) {
        chr->tap(chr->tap_opaque, buf, n);
    }
    switch (chr->kind) {
    case CHARDEV_NULL:
        break;
    case CHARDEV_STDIO:
        chardev_write_stdout(chr, buf, n);
        break;
    case CHARDEV_FILE:
        while (n > 0) {
            ssize_t w = write(chr->out_fd, buf, n);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                break; /* disk full and the like: drop, the guest goes on */
            }
            buf += w;
            n -= (size_t)w;
        }
        break;
    case CHARDEV_PTY:
        while (n > 0) {
            ssize_t w = write(chr->out_fd, buf, n);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                break; /* nobody reads the pty: drop */
            }
            buf += w;
            n -= (size_t)w;
        }
        break;
    case CHARDEV_UNIX:
        /* Behind queued output, this goes to the queue too (order). */
        while (chr->out_fd >= 0 && n > 0 && chr->outq_len == 0) {
            ssize_t w = send(chr->out_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w < 0 && errno != EAGAIN) {
                /* Peer gone; the main loop closes it (it owns the fd). */
                chr->out_fd = -1;
                loop_call(chardev_unix_client_lost, chr);
                break;
            }
            if (w <= 0) {
                break; /* socket buffer full: queue the rest */
            }
            buf += w;
            n -= (size_t)w;
        }
        if (chr->out_fd >= 0 && n > 0) {
            chardev_outq_add(chr, buf, n);
        }
        break;
    }
    pthread_mutex_unlock(&chr->out_lock);
}

/* ---- input (main-loop thread) ---- */

static void chardev_print(struct chardev *chr, const char *s)
{
    chardev_write(chr, (const uint8_t *)s, strlen(s));
}

static void chardev_notify(struct chardev *chr, unsigned i,
                           enum chardev_event ev)
{
    if (i < chr->nfe && chr->fe[i].read && chr->fe[i].event) {
        chr->fe[i].event(chr->fe[i].opaque, ev);
    }
}

static void chardev_notify_all(struct chardev *chr, enum chardev_event ev)
{
    for (unsigned i = 0; i < chr->nfe; i++) {
        chardev_notify(chr, i, ev);
    }
}

/* QEMU's mux escapes. Returns true if ch goes to the guest. */
static bool chardev_escape(struct chardev *chr, uint8_t ch)
{
    if (chr->got_escape) {
        chr->got_escape = false;
        switch (ch) {
        case CHARDEV_ESCAPE:
            return true;
        case 'h':
        case '?':
            chardev_print(chr, "\n"
                               "C-a h    print this help\n"
                               "C-a x    exit emulator\n"
                               "C-a c    switch between console and monitor\n"
                               "C-a C-a  sends C-a\n");
            return false;
        case 'c':
            if (chr->nfe > 1) {
                chr->focus = (chr->focus + 1) % chr->nfe;
                chardev_notify(chr, chr->focus, CHARDEV_FOCUS_IN);
            }
            return false;
        case 'x':
            chardev_print(chr, "swede: terminated\n");
            runstate_request(RUNSTATE_REQ_QUIT, 0);
            loop_wakeup();
            return false;
        default:
            return false; /* unknown escapes (c: monitor) are swallowed */
        }
    }
    if (ch == CHARDEV_ESCAPE) {
        chr->got_escape = true;
        return false;
    }
    return true;
}

static void chardev_fd_event(void *opaque, uint32_t events);

/* Register EPOLLIN when in_on, and EPOLLOUT while output is queued. */
static void chardev_set_polling(struct chardev *chr, bool in_on)
{
    if (!chr->in_watched) {
        return;
    }
    uint32_t ev = in_on ? EPOLLIN : 0;
    pthread_mutex_lock(&chr->out_lock);
    if (chr->outq_len) {
        ev |= EPOLLOUT;
    }
    pthread_mutex_unlock(&chr->out_lock);
    if (ev != chr->in_events && loop_mod_fd(chr->in_fd, ev) == 0) {
        chr->in_events = ev;
    }
}

/* Whether EPOLLIN is registered (input is being polled). */
static bool chardev_in_polled(const struct chardev *chr)
{
    return (chr->in_events & EPOLLIN) != 0;
}

/* Main loop: send queued output as far as the socket takes it. */
static void chardev_out_flush(struct chardev *chr)
{
    bool lost = false;
    pthread_mutex_lock(&chr->out_lock);
    size_t done = 0;
    while (chr->out_fd >= 0 && done < chr->outq_len) {
        ssize_t w = send(chr->out_fd, chr->outq + done, chr->outq_len - done,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && errno != EAGAIN) {
            chr->out_fd = -1;
            lost = true;
            break;
        }
        if (w <= 0) {
            break;
        }
        done += (size_t)w;
    }
    if (chr->out_fd < 0) {
        chr->outq_len = 0;
    } else if (done) {
        memmove(chr->outq, chr->outq + done, chr->outq_len - done);
        chr->outq_len -= done;
    }
    pthread_mutex_unlock(&chr->out_lock);
    if (lost) {
        chardev_unix_client_lost(chr);
    }
}

/* Queued by a writer that queued output: watch for EPOLLOUT. */
static void chardev_out_arm(void *opaque)
{
    struct chardev *chr = opaque;
    pthread_mutex_lock(&chr->out_lock);
    chr->outq_armed = false;
    pthread_mutex_unlock(&chr->out_lock);
    chardev_out_flush(chr);
    chardev_set_polling(chr, chardev_in_polled(chr));
}

/* Hand pending bytes to the receiver as far as it has room. */
static void chardev_deliver(struct chardev *chr)
{
    while (chr->in_pos < chr->in_len) {
        const struct chardev_receiver *rx =
            chr->focus < chr->nfe && chr->fe[chr->focus].read
                ? &chr->fe[chr->focus]
                : NULL;
        size_t room = rx ? rx->can_read(rx->opaque) : 0;
        if (!rx) {
            room = chr->in_len - chr->in_pos; /* nobody listens: discard */
        } else if (room == 0) {
            break;
        }
        size_t n = chr->in_len - chr->in_pos;
        if (n > room) {
            n = room;
        }
        if (rx) {
            rx->read(rx->opaque, chr->inbuf + chr->in_pos, n);
        }
        chr->in_pos += n;
    }
    if (chr->in_pos == chr->in_len) {
        chr->in_pos = chr->in_len = 0;
    }
}

static void chardev_unix_drop_client(struct chardev *chr);

/* Ctrl-A escapes must get through while the guest does not read: such a
 * backend reads ahead as far as its buffer goes. */
static bool chardev_reads_ahead(const struct chardev *chr)
{
    return chr->kind == CHARDEV_STDIO && chr->escapes;
}

/* Read once into the free end of the buffer. Returns bytes added (after
 * escapes), 0 on EOF or nothing available. Input still pending for a
 * frontend when Ctrl-A c moves the focus away is dropped. */
static size_t chardev_fill(struct chardev *chr)
{
    if (chr->in_pos) {
        memmove(chr->inbuf, chr->inbuf + chr->in_pos,
                chr->in_len - chr->in_pos);
        chr->in_len -= chr->in_pos;
        chr->in_pos = 0;
    }
    size_t base = chr->in_len;
    if (base == sizeof(chr->inbuf)) {
        return 0;
    }
    ssize_t r = read(chr->in_fd, chr->inbuf + base, sizeof(chr->inbuf) - base);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
        return 0;
    }
    if (r <= 0) {
        if (chr->kind == CHARDEV_UNIX) {
            chardev_unix_drop_client(chr);
        } else {
            /* stdin closed: the guest keeps running without input. */
            chr->in_eof = true;
            if (chr->in_watched) {
                loop_del_fd(chr->in_fd);
                chr->in_watched = false;
                chr->in_events = 0;
            }
        }
        return 0;
    }
    size_t n = (size_t)r;
    if (chr->kind == CHARDEV_STDIO && chr->escapes) {
        size_t o = base;
        for (size_t i = base; i < base + n; i++) {
            unsigned focus = chr->focus;
            if (chardev_escape(chr, chr->inbuf[i])) {
                chr->inbuf[o++] = chr->inbuf[i];
            }
            if (chr->focus != focus) {
                chr->in_pos = o; /* the old frontend's bytes: dropped */
            }
        }
        n = o - base;
    }
    chr->in_len = base + n;
    return n;
}

/* Deliver what is pending and decide whether to poll for more. */
static void chardev_pump(struct chardev *chr)
{
    chardev_deliver(chr);
    if (chr->in_no_epoll) {
        /* A regular file never blocks: read on while the device has room,
         * a bounded amount per main-loop turn. */
        for (int i = 0; i < 16 && !chr->in_eof && chr->in_len == 0; i++) {
            if (chardev_fill(chr) == 0 && chr->in_eof) {
                break;
            }
            chardev_deliver(chr);
        }
        if (!chr->in_eof && chr->in_len == 0) {
            chardev_accept_input(chr);
        }
        return;
    }
    chardev_set_polling(chr,
                        chr->in_len == 0 || (chardev_reads_ahead(chr) &&
                                             chr->in_len < sizeof(chr->inbuf)));
}

static void chardev_fd_event(void *opaque, uint32_t events)
{
    struct chardev *chr = opaque;
    if (events & EPOLLOUT) {
        chardev_out_flush(chr);
        if (chr->in_fd < 0) {
            return; /* the client went */
        }
        if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
            chardev_set_polling(chr, chardev_in_polled(chr));
            return;
        }
    }
    if (chr->in_len == 0 || chardev_reads_ahead(chr)) {
        chardev_fill(chr);
    }
    chardev_pump(chr);
}

static void chardev_accept_cb(void *opaque)
{
    struct chardev *chr = opaque;
    __atomic_store_n(&chr->accept_queued, 0, __ATOMIC_RELEASE);
    chardev_pump(chr);
}

void chardev_accept_input(struct chardev *chr)
{
    if (!chr) {
        return;
    }
    if (__atomic_exchange_n(&chr->accept_queued, 1, __ATOMIC_ACQ_REL) == 0) {
        loop_call(chardev_accept_cb, chr);
    }
}

static void chardev_watch_input(struct chardev *chr)
{
    if (chr->in_fd < 0 || chr->in_watched || chr->in_eof) {
        return;
    }
    int r = loop_add_fd(chr->in_fd, EPOLLIN, chardev_fd_event, chr);
    if (r == -EPERM) {
        /* epoll refuses regular files (stdin < file): read them directly. */
        chr->in_no_epoll = true;
        chardev_accept_input(chr);
        return;
    }
    if (r == 0) {
        chr->in_watched = true;
        chr->in_events = EPOLLIN;
        chardev_set_polling(chr, true); /* EPOLLOUT if output is queued */
    }
}

/* ---- unix server ---- */

static void chardev_listen_event(void *opaque, uint32_t events);

static void chardev_unix_drop_client(struct chardev *chr)
{
    bool was_open = chr->in_fd >= 0;
    if (chr->in_watched) {
        loop_del_fd(chr->in_fd);
    }
    chr->in_watched = false;
    chr->in_events = 0;
    pthread_mutex_lock(&chr->out_lock);
    chr->out_fd = -1;
    chr->outq_len = 0;
    chr->outq_dropped = false;
    pthread_mutex_unlock(&chr->out_lock);
    if (chr->in_fd >= 0) {
        close(chr->in_fd);
    }
    chr->in_fd = -1;
    chr->in_pos = chr->in_len = 0;
    if (chr->listen_fd >= 0 && !chr->listen_watched &&
        loop_add_fd(chr->listen_fd, EPOLLIN, chardev_listen_event, chr) == 0) {
        chr->listen_watched = true;
    }
    if (was_open) {
        chardev_notify_all(chr, CHARDEV_CLOSED);
    }
}

/* Queued by a writer that saw the peer go. By now the reader may have
 * dropped that client and accepted another, whose out_fd is set again. */
static void chardev_unix_client_lost(void *opaque)
{
    struct chardev *chr = opaque;
    pthread_mutex_lock(&chr->out_lock);
    bool lost = chr->out_fd < 0;
    pthread_mutex_unlock(&chr->out_lock);
    if (lost && chr->in_fd >= 0) {
        chardev_unix_drop_client(chr);
    }
}

static void chardev_listen_event(void *opaque, uint32_t events)
{
    struct chardev *chr = opaque;
    (void)events;
    if (chr->in_fd >= 0) {
        return;
    }
    int fd = accept4(chr->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    /* One client at a time: later ones wait in the backlog until this one
     * leaves, as with QEMU. */
    loop_del_fd(chr->listen_fd);
    chr->listen_watched = false;
    chr->in_fd = fd;
    chr->in_eof = false;
    pthread_mutex_lock(&chr->out_lock);
    chr->out_fd = fd;
    chr->outq_len = 0;
    chr->outq_dropped = false;
    pthread_mutex_unlock(&chr->out_lock);
    chardev_watch_input(chr);
    chardev_notify_all(chr, CHARDEV_OPENED);
}

/* ---- lifetime ---- */

static void chardev_start(struct chardev *chr)
{
    if (!chr->started) {
        chr->started = true;
        if (chr->kind == CHARDEV_UNIX && chr->listen_fd >= 0 &&
            loop_add_fd(chr->listen_fd, EPOLLIN, chardev_listen_event, chr) ==
                0) {
            chr->listen_watched = true;
        }
        chardev_watch_input(chr);
    }
}

/* Tell frontend i that the backend is open, if it is. */
static void chardev_open_event(struct chardev *chr, unsigned i)
{
    if (chr->kind != CHARDEV_UNIX || chr->in_fd >= 0) {
        chardev_notify(chr, i, CHARDEV_OPENED);
    }
}

void chardev_set_receiver(struct chardev *chr,
                          const struct chardev_receiver *rx)
{
    bool had = chr->nfe > 0 && chr->fe[0].read;
    if (rx) {
        chr->fe[0] = *rx;
    } else {
        memset(&chr->fe[0], 0, sizeof(chr->fe[0]));
    }
    if (chr->nfe == 0) {
        chr->nfe = 1;
    }
    chardev_start(chr);
    if (rx && !had) {
        chardev_open_event(chr, 0);
    }
    chardev_pump(chr);
}

int chardev_add_frontend(struct chardev *chr, const struct chardev_receiver *rx)
{
    if (chr->nfe == 0) {
        chardev_set_receiver(chr, rx);
        return 0;
    }
    if (chr->nfe == CHARDEV_MAX_FRONTENDS) {
        return -ENOSPC;
    }
    unsigned i = chr->nfe++;
    chr->fe[i] = *rx;
    chardev_start(chr);
    chardev_open_event(chr, i);
    chardev_pump(chr);
    return 0;
}

bool chardev_is_mux(const struct chardev *chr)
{
    return chr->kind == CHARDEV_STDIO && chr->escapes && chr->nfe > 1;
}

void chardev_filename(struct chardev *chr, char *buf, size_t len)
{
    switch (chr->kind) {
    case CHARDEV_NULL:
        snprintf(buf, len, "null");
        break;
    case CHARDEV_STDIO:
        snprintf(buf, len, "stdio");
        break;
    case CHARDEV_FILE:
        snprintf(buf, len, "file:%s", chr->path ? chr->path : "");
        break;
    case CHARDEV_PTY:
        snprintf(buf, len, "pty:%s", chr->path ? chr->path : "");
        break;
    case CHARDEV_UNIX:
        snprintf(buf, len, "%sunix:%s,server=on",
                 chr->in_fd >= 0 ? "" : "disconnected:", chr->path);
        break;
    }
}

void chardev_close(struct chardev *chr)
{
    if (!chr) {
        return;
    }
    if (chr->in_watched) {
        loop_del_fd(chr->in_fd);
    }
    if (chr->listen_watched) {
        loop_del_fd(chr->listen_fd);
    }
    /* Deferred calls still queued for chr must not run after the free. */
    loop_call_cancel(chardev_accept_cb, chr);
    loop_call_cancel(chardev_unix_client_lost, chr);
    loop_call_cancel(chardev_out_arm, chr);
    switch (chr->kind) {
    case CHARDEV_STDIO:
        chardev_restore_terminal();
        chardev_stdio_in_use = false;
        break;
    case CHARDEV_FILE:
        close(chr->out_fd);
        break;
    case CHARDEV_UNIX:
        if (chr->in_fd >= 0) {
            close(chr->in_fd);
        }
        close(chr->listen_fd);
        unlink(chr->path);
        break;
    case CHARDEV_PTY:
        close(chr->in_fd);
        close(chr->pty_slave);
        break;
    case CHARDEV_NULL:
        break;
    }
    pthread_mutex_destroy(&chr->out_lock);
    free(chr->outq);
    free(chr->path);
    free(chr);
}

void chardev_set_output_tap(struct chardev *chr,
                            void (*tap)(void *opaque, const uint8_t *buf,
                                        size_t n),
                            void *opaque)
{
    pthread_mutex_lock(&chr->out_lock);
    chr->tap = tap;
    chr->tap_opaque = opaque;
    pthread_mutex_unlock(&chr->out_lock);
}
