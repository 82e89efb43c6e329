/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: files and directories, the stat family, pipes, poll,
 * epoll, /proc/self/exe and /proc/self/maps, uname. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char dir[] = "/tmp/swede-user-XXXXXX", path[256], buf[256];
    struct stat st;
    struct utsname u;
    int fd, p[2], n = 0, ep;

    (void)argc;
    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0640);
    dprintf(fd, "hello file\n");
    close(fd);
    stat(path, &st);
    printf("size=%lld mode=%o reg=%d\n", (long long)st.st_size,
           st.st_mode & 0777, S_ISREG(st.st_mode));
    fd = open(path, O_RDONLY);
    fstat(fd, &st);
    n = (int)read(fd, buf, sizeof(buf) - 1);
    buf[n] = 0;
    printf("read %d: %s", n, buf);
    lseek(fd, 6, SEEK_SET);
    n = (int)read(fd, buf, 4);
    printf("pread %.4s\n", buf);
    close(fd);
    snprintf(buf, sizeof(buf), "%s/b.txt", dir);
    rename(path, buf);
    printf("access old=%d new=%d\n", access(path, F_OK), access(buf, R_OK));
    DIR *d = opendir(dir);
    struct dirent *e;
    n = 0;
    while ((e = readdir(d))) {
        n++;
    }
    closedir(d);
    printf("entries=%d\n", n);
    unlink(buf);
    rmdir(dir);
    printf("rmdir=%d\n", access(dir, F_OK));

    pipe(p);
    write(p[1], "xyz", 3);
    struct pollfd pf = { .fd = p[0], .events = POLLIN };
    printf("poll=%d revents=%x\n", poll(&pf, 1, 1000), pf.revents);
    ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN,
                              .data.u64 = 0x1122334455667788ull };
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    struct epoll_event out[2];
    memset(out, 0, sizeof(out));
    n = epoll_wait(ep, out, 2, 1000);
    printf("epoll=%d data=%llx\n", n, (unsigned long long)out[0].data.u64);

    uname(&u);
    printf("machine=%s\n", u.machine);
    n = (int)readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("exe matches=%d\n", realpath(argv[0], path) && !strcmp(buf, path));
    FILE *m = fopen("/proc/self/maps", "r");
    int found = 0;
    while (m && fgets(buf, sizeof(buf), m)) {
        if (strstr(buf, path)) {
            found = 1;
        }
    }
    printf("maps has exe=%d\n", found);
    return 0;
}
