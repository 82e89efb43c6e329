/* SPDX-License-Identifier: MIT */
/*
 * swede-riscv64: run a riscv64 Linux program on an x86_64 host
 * (docs/user.md). The command line follows qemu-riscv64's (-L, -E, -U,
 * -0, -strace, -d, -D), each option also settable through an environment
 * variable (SWEDE_LD_PREFIX, ...). This file parses it, loads the program
 * (elf.c) and runs the first guest thread (thread.c); it owns exit().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "user/user.h"

struct user_proc uproc;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: swede-riscv64 [options] PROGRAM [ARGS...]\n"
            "Run a riscv64 Linux program.\n\n"
            "  -L PATH      sysroot for the dynamic loader and libraries "
            "(SWEDE_LD_PREFIX)\n"
            "  -E VAR=VAL   set an environment variable for the program "
            "(SWEDE_SET_ENV, comma-separated)\n"
            "  -U VAR       unset an environment variable (SWEDE_UNSET_ENV)\n"
            "  -0 ARGV0     argv[0] for the program (SWEDE_ARGV0)\n"
            "  -strace      log system calls (SWEDE_STRACE)\n"
            "  -d ITEMS     log items, as swede -d, plus strace (SWEDE_LOG)\n"
            "  -D FILE      log to FILE (SWEDE_LOG_FILENAME)\n"
            "  -h, -help    this text\n"
            "  -version     print the version\n");
}

void log_flush_user(void)
{
    fflush(stdout);
    fflush(stderr);
}

/* Environment edits: apply -E / -U in order to a copy of environ. */
static char **env;
static size_t env_n;

static void env_unset(const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < env_n; i++) {
        if (!strncmp(env[i], name, l) && env[i][l] == '=') {
            memmove(&env[i], &env[i + 1], (env_n - i) * sizeof(*env));
            env_n--;
            return;
        }
    }
}

static void env_set(const char *kv)
{
    const char *eq = strchr(kv, '=');
    char name[256];

    if (!eq || (size_t)(eq - kv) >= sizeof(name)) {
        return;
    }
    memcpy(name, kv, (size_t)(eq - kv));
    name[eq - kv] = 0;
    env_unset(name);
    env = realloc(env, (env_n + 2) * sizeof(*env));
    env[env_n++] = strdup(kv);
    env[env_n] = NULL;
}

static void env_list(const char *list, void (*fn)(const char *))
{
    char *dup = strdup(list), *save = NULL;
    for (char *s = strtok_r(dup, ",", &save); s;
         s = strtok_r(NULL, ",", &save)) {
        fn(s);
    }
    /* The strings stay referenced by env; dup is kept. */
}

static int set_log(const char *items)
{
    struct error err = { 0 };
    char buf[256], out[256] = "";
    char *save = NULL;
    bool help = false;

    snprintf(buf, sizeof(buf), "%s", items);
    for (char *s = strtok_r(buf, ",", &save); s;
         s = strtok_r(NULL, ",", &save)) {
        if (!strcmp(s, "strace")) {
            uproc.opt.strace = true;
        } else {
            if (out[0]) {
                strncat(out, ",", sizeof(out) - strlen(out) - 1);
            }
            strncat(out, s, sizeof(out) - strlen(out) - 1);
        }
    }
    if (out[0] && log_set_items(out, &help, &err) < 0) {
        fprintf(stderr, "swede-riscv64: -d %s: %s\n", items, err.msg);
        return -1;
    }
    if (help) {
        printf("strace     log system calls\n");
        exit(0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *argv0 = getenv("SWEDE_ARGV0"), *prog, *e;
    struct uthread *t;
    const char *msg = "";
    uint64_t pc, sp;
    int i, r;
    extern char **environ;

    for (env_n = 0; environ[env_n]; env_n++) {
    }
    env = calloc(env_n + 1, sizeof(*env));
    memcpy(env, environ, env_n * sizeof(*env));
    uproc.opt.sysroot = getenv("SWEDE_LD_PREFIX");
    uproc.opt.strace = getenv("SWEDE_STRACE") != NULL;
    uproc.opt.log_items = getenv("SWEDE_LOG");
    uproc.opt.log_file = getenv("SWEDE_LOG_FILENAME");
    if ((e = getenv("SWEDE_SET_ENV"))) {
        env_list(e, env_set);
    }
    if ((e = getenv("SWEDE_UNSET_ENV"))) {
        env_list(e, env_unset);
    }
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i] + (argv[i][1] == '-' ? 2 : 1);
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(o, "h") || !strcmp(o, "help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(o, "version")) {
            printf("swede-riscv64 version %s\n", SWEDE_VERSION);
            return 0;
        }
        if (!strcmp(o, "strace")) {
            uproc.opt.strace = true;
            continue;
        }
        if (!strchr("LEU0dD", o[0]) || o[1]) {
            fprintf(stderr, "swede-riscv64: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
        if (!v) {
            fprintf(stderr, "swede-riscv64: %s needs an argument\n", argv[i]);
            return 1;
        }
        if (!strcmp(o, "L")) {
            uproc.opt.sysroot = v;
        } else if (!strcmp(o, "E")) {
            env_set(v);
        } else if (!strcmp(o, "U")) {
            env_unset(v);
        } else if (!strcmp(o, "0")) {
            argv0 = v;
        } else if (!strcmp(o, "d")) {
            uproc.opt.log_items = v;
        } else if (!strcmp(o, "D")) {
            uproc.opt.log_file = v;
        } else {
            fprintf(stderr, "swede-riscv64: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
        i++;
    }
    if (i >= argc) {
        usage(stderr);
        return 1;
    }
    if (uproc.opt.log_file) {
        struct error err = { 0 };
        if (log_set_file(uproc.opt.log_file, &err) < 0) {
            fprintf(stderr, "swede-riscv64: -D %s: %s\n", uproc.opt.log_file,
                    err.msg);
            return 1;
        }
    }
    if (uproc.opt.log_items && set_log(uproc.opt.log_items) < 0) {
        return 1;
    }
    prog = argv[i];
    if (!realpath(prog, uproc.exe)) {
        fprintf(stderr, "swede-riscv64: %s: %s\n", prog, strerror(errno));
        return 1;
    }
    r = (int)readlink("/proc/self/exe", uproc.self_exe,
                      sizeof(uproc.self_exe) - 1);
    if (r < 0) {
        fprintf(stderr, "swede-riscv64: /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    uproc.self_exe[r] = 0;
    if (argv0) {
        argv[i] = (char *)argv0;
    }
    t = thread_new();
    if (!t) {
        fprintf(stderr, "swede-riscv64: out of memory for the CPU\n");
        return 1;
    }
    ut_self = t;
    r = elf_load(prog, &argv[i], env, &pc, &sp, &msg);
    if (r < 0) {
        fprintf(stderr, "swede-riscv64: %s: %s: %s\n", prog, msg, strerror(-r));
        return 1;
    }
    *t->r.pc = pc;
    t->r.x[2] = sp;
    t->tid = (pid_t)gettid();
    atomic_store(&uproc.nthreads, 1);
    {
        sigset_t cur;
        pthread_sigmask(SIG_SETMASK, NULL, &cur);
        for (int s = 1; s <= TARGET_NSIG; s++) {
            if (sigismember(&cur, s) == 1) {
                t->sigmask |= 1ull << (s - 1);
            }
        }
    }
    sig_init();
    thread_loop(t);
}
