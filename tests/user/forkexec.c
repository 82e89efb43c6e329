/* SPDX-License-Identifier: MIT */
/* swede-riscv64 test: fork, wait, pipes between processes, execve of
 * itself (which must stay under the emulator) and exit statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int p[2], st;
    char buf[32] = { 0 };

    if (argc > 1 && !strcmp(argv[1], "child")) {
        printf("exec'd child argc=%d arg=%s\n", argc, argv[2]);
        return 7;
    }
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        write(p[1], "from child", 10);
        _exit(5);
    }
    close(p[1]);
    read(p[0], buf, sizeof(buf) - 1);
    waitpid(pid, &st, 0);
    printf("fork: %s, exit=%d\n", buf, WEXITSTATUS(st));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        execl("/proc/self/exe", argv[0], "child", "xyz", (char *)NULL);
        _exit(99);
    }
    waitpid(pid, &st, 0);
    printf("exec: exit=%d\n", WEXITSTATUS(st));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        abort();
    }
    waitpid(pid, &st, 0);
    printf("abort: signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
    int r = system("exit 3");
    printf("system: %d\n", WEXITSTATUS(r));
    return 0;
}
