/*
 * clone-join PARENT_DIR ROUNDS: what joining a cgroup v2 cgroup costs at the system-call level, the way the launcher
 * does it, without the rest of a launch around it. Each round makes a fresh cgroup under PARENT_DIR (a cgroup2
 * directory), starts a CLONE_VM child on its own stack that waits on a pipe, lets it exit, reaps it and removes the
 * cgroup, in three ways, in a shuffled order:
 *   into:  mkdir, open O_PATH, clone3(CLONE_INTO_CGROUP): the child is born in the cgroup;
 *   procs: mkdir, clone, the child's pid written into the cgroup's cgroup.procs (the fallback, and cgroup v1's way);
 *   none:  clone only, no cgroup (the baseline).
 * Prints, per way, the median and p99 in microseconds of: create (mkdir [+ open]), clone+join, destroy (rmdir), and
 * create + clone+join + destroy. Needs root (or a delegated PARENT_DIR) and Linux 5.7.
 */
#define _GNU_SOURCE
#include "raw_syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define STACK_SIZE (64 * 1024)

enum { INTO, PROCS, NONE, WAYS };
static const char *const names[WAYS] = { "clone3 CLONE_INTO_CGROUP", "clone + cgroup.procs write", "clone, no cgroup" };

static int release_fd;

static int child(void *arg)
{
    char byte;
    (void)arg;
    RAW3(SYS_read, release_fd, &byte, 1);
    return 0;
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void summary(double *v, int n, double *median, double *p99)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    *median = v[n / 2];
    *p99 = v[(int)(n * 0.99)];
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: clone-join PARENT_DIR ROUNDS\n");
        return 2;
    }
    const char *parent = argv[1];
    int rounds = atoi(argv[2]), warmup = 50;
    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) die("mmap");
    double *samples[WAYS][4];
    for (int w = 0; w < WAYS; w++)
        for (int k = 0; k < 4; k++)
            if (!(samples[w][k] = calloc((size_t)rounds, sizeof(double)))) die("calloc");
    int order[WAYS] = { INTO, PROCS, NONE };
    srand(20251126);

    for (int round = 0; round < warmup + rounds; round++) {
        for (int i = WAYS - 1; i > 0; i--) {
            int j = rand() % (i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int o = 0; o < WAYS; o++) {
            int way = order[o], pipe_fds[2], pidfd = -1, cgroup_fd = -1;
            char dir[4096], procs[4200], pid_text[16];
            snprintf(dir, sizeof dir, "%s/clone-join-%d-%d-%d", parent, (int)getpid(), round, way);
            if (pipe2(pipe_fds, O_CLOEXEC) < 0) die("pipe2");
            release_fd = pipe_fds[0];

            double t0 = now_us();
            if (way != NONE && mkdir(dir, 0755) < 0) die("mkdir");
            if (way == INTO && (cgroup_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) die("open");
            double t1 = now_us();
            long pid;
            if (way == INTO) {
                struct clone_args args;
                memset(&args, 0, sizeof args);
                args.flags = CLONE_VM | CLONE_PIDFD | CLONE_INTO_CGROUP;
                args.pidfd = (uintptr_t)&pidfd;
                args.stack = (uintptr_t)stack;
                args.stack_size = STACK_SIZE;
                args.cgroup = (uint64_t)cgroup_fd;
                pid = raw_clone3_run(&args, sizeof args, child, NULL);
            } else {
                struct clone_args args;
                memset(&args, 0, sizeof args);
                args.flags = CLONE_VM | CLONE_PIDFD;
                args.pidfd = (uintptr_t)&pidfd;
                args.stack = (uintptr_t)stack;
                args.stack_size = STACK_SIZE;
                pid = raw_clone3_run(&args, sizeof args, child, NULL);
                if (pid > 0 && way == PROCS) {
                    snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
                    int fd = open(procs, O_WRONLY | O_CLOEXEC);
                    int len = snprintf(pid_text, sizeof pid_text, "%ld", pid);
                    if (fd < 0 || write(fd, pid_text, (size_t)len) != len) die("cgroup.procs");
                    close(fd);
                }
            }
            if (pid < 0) {
                errno = (int)-pid;
                die("clone3");
            }
            double t2 = now_us();
            if (write(pipe_fds[1], "x", 1) != 1) die("release");
            siginfo_t info;
            while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0)
                if (errno != EINTR) die("waitid");
            close(pidfd);
            if (cgroup_fd >= 0) close(cgroup_fd);
            close(pipe_fds[0]);
            close(pipe_fds[1]);
            double t3 = now_us();
            if (way != NONE)
                while (rmdir(dir) < 0)
                    if (errno != EBUSY) die("rmdir"); /* the reaped child may still be leaving the cgroup */
            double t4 = now_us();
            if (round >= warmup) {
                int r = round - warmup;
                samples[way][0][r] = t1 - t0;
                samples[way][1][r] = t2 - t1;
                samples[way][2][r] = t4 - t3;
                samples[way][3][r] = (t1 - t0) + (t2 - t1) + (t4 - t3);
            }
        }
    }

    printf("%-28s %15s %15s %15s %23s   (median / p99 us, %d rounds, interleaved)\n",
           "way", "create", "clone+join", "destroy", "create+clone+join+destroy", rounds);
    for (int w = 0; w < WAYS; w++) {
        double m[4], p[4];
        for (int k = 0; k < 4; k++) summary(samples[w][k], rounds, &m[k], &p[k]);
        printf("%-28s %7.1f / %5.0f %7.1f / %5.0f %7.1f / %5.0f %13.1f / %7.0f\n",
               names[w], m[0], p[0], m[1], p[1], m[2], p[2], m[3], p[3]);
    }
    return 0;
}
