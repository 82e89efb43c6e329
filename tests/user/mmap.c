/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: mmap, mprotect, munmap, mremap, brk and a file
 * mapping; a write to a read-only page is caught as SIGSEGV. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf jb;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(jb, 1);
}

int main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("pagesize=%ld zero=%d\n", pg, p[100]);
    memset(p, 7, 4 * pg);
    mprotect(p, pg, PROT_READ);
    signal(SIGSEGV, on_segv);
    if (!sigsetjmp(jb, 1)) {
        p[10] = 1;
        printf("write went through\n");
    } else {
        printf("write to read-only page faulted\n");
    }
    mprotect(p, pg, PROT_READ | PROT_WRITE);
    p[10] = 2;
    printf("after mprotect %d\n", p[10]);
    p = mremap(p, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
    p[63 * pg] = 9;
    printf("mremap keeps %d %d\n", p[5], p[63 * pg]);
    munmap(p, 64 * pg);
    if (!sigsetjmp(jb, 1)) {
        printf("read %d\n", p[0]);
    } else {
        printf("read after munmap faulted\n");
    }
    char *b = sbrk(0);
    sbrk(3 * pg);
    memset(b, 1, 3 * pg);
    printf("brk grew %d\n", (int)((char *)sbrk(0) - b));
    void *big = malloc(50 << 20);
    memset(big, 3, 50 << 20);
    printf("malloc big ok\n");
    free(big);
    int fd = open("/tmp/swede-mmap-test", O_CREAT | O_RDWR | O_TRUNC, 0600);
    ftruncate(fd, pg);
    char *f = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    strcpy(f, "mapped");
    munmap(f, pg);
    char buf[8] = { 0 };
    pread(fd, buf, 6, 0);
    printf("file says %s\n", buf);
    close(fd);
    unlink("/tmp/swede-mmap-test");
    return 0;
}
