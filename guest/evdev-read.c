// SPDX-License-Identifier: MIT
/*
 * evdev-read: print the key events of every input device in the guest.
 *
 *   evdev-read [N]
 *
 * Opens every /dev/input/event* node, prints one line per device,
 * "evdev-read: eventK: <device name>", then "evdev-read: ready D devices"
 * (so a test knows when to start sending keys), then one line per EV_KEY
 * event, "evdev: eventK key <code> <value>" (value 1 press, 0 release,
 * 2 autorepeat), flushed as it happens.  It exits 0 after N key events
 * (without N it runs until killed; N = 0 only lists the devices), and 1
 * with "evdev-read: error: ..." when there is no device to read or reading
 * fails.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MAX_DEVS 64

struct dev {
    char node[256];
    int fd;
};

static int by_number(const struct dirent **a, const struct dirent **b)
{
    return atoi((*a)->d_name + 5) - atoi((*b)->d_name + 5);
}

static int is_event(const struct dirent *d)
{
    return strncmp(d->d_name, "event", 5) == 0;
}

int main(int argc, char **argv)
{
    struct dev devs[MAX_DEVS];
    struct pollfd pfd[MAX_DEVS];
    struct dirent **names;
    long limit = 0, seen = 0;
    int n, ndev = 0, open_devs;

    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: evdev-read [N]\n");
        return 2;
    }
    if (argc == 2) {
        char *end;

        limit = strtol(argv[1], &end, 10);
        if (*end || end == argv[1] || limit < 0) {
            fprintf(stderr, "evdev-read: error: bad count '%s'\n", argv[1]);
            return 2;
        }
    }

    n = scandir("/dev/input", &names, is_event, by_number);
    if (n < 0) {
        fprintf(stderr, "evdev-read: error: /dev/input: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char path[300], name[256] = "?";
        int fd;

        snprintf(path, sizeof(path), "/dev/input/%s", names[i]->d_name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "evdev-read: %s: %s\n", path, strerror(errno));
        } else if (ndev == MAX_DEVS) {
            close(fd);
        } else {
            if (ioctl(fd, EVIOCGNAME(sizeof(name) - 1), name) < 0) {
                strcpy(name, "?");
            }
            snprintf(devs[ndev].node, sizeof(devs[ndev].node), "%s",
                     names[i]->d_name);
            devs[ndev].fd = fd;
            pfd[ndev].fd = fd;
            pfd[ndev].events = POLLIN;
            printf("evdev-read: %s: %s\n", devs[ndev].node, name);
            ndev++;
        }
        free(names[i]);
    }
    free(names);
    if (ndev == 0) {
        fprintf(stderr, "evdev-read: error: no /dev/input/event* to read\n");
        return 1;
    }
    printf("evdev-read: ready %d devices\n", ndev);
    fflush(stdout);
    if (limit == 0 && argc == 2) {
        return 0;
    }

    open_devs = ndev;
    while (open_devs > 0) {
        if (poll(pfd, ndev, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "evdev-read: error: poll: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < ndev; i++) {
            struct input_event ev[64];
            ssize_t r;

            if (pfd[i].fd < 0 || !pfd[i].revents) {
                continue;
            }
            r = read(pfd[i].fd, ev, sizeof(ev));
            if (r < 0 && errno == EINTR) {
                continue;
            }
            if (r <= 0) {
                fprintf(stderr, "evdev-read: %s: %s\n", devs[i].node,
                        r < 0 ? strerror(errno) : "end of file");
                close(pfd[i].fd);
                pfd[i].fd = -1;
                open_devs--;
                continue;
            }
            for (size_t k = 0; k < (size_t)r / sizeof(ev[0]); k++) {
                if (ev[k].type != EV_KEY) {
                    continue;
                }
                printf("evdev: %s key %u %d\n", devs[i].node, ev[k].code,
                       ev[k].value);
                fflush(stdout);
                if (limit && ++seen >= limit) {
                    return 0;
                }
            }
        }
    }
    fprintf(stderr, "evdev-read: error: every device went away\n");
    return 1;
}
