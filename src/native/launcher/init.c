/*
 * sandbox-init: PID 1 of every sandbox (a static executable, so it runs on any root filesystem).
 *
 *   sandbox-init PROGRAM [ARGS...]     environment = the payload's environment
 *
 * The launcher execs it with every signal blocked and with two fds by convention:
 *   3 (SBX_INIT_ERROR_FD)  the setup-error pipe; a failed exec of the payload is reported here, and
 *                          the host reads EOF once the payload has been exec'd;
 *   4 (SBX_INIT_REPORT_FD) the exit report: the payload's wait status and the rusage of everything
 *                          init reaped, written once before init exits.
 * init forks the payload into a new session, forwards every catchable signal to it, reaps orphans,
 * and exits as soon as the payload does: the kernel then kills whatever else is left in the
 * sandbox's PID namespace.
 */
#define _GNU_SOURCE
#include "sandbox_plan.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void report_setup_error(int stage, int error, const char *detail)
{
    struct sbx_setup_error e;
    memset(&e, 0, sizeof e);
    e.magic = SBX_ERROR_MAGIC;
    e.stage = stage;
    e.error = error;
    e.op_index = -1;
    if (detail) strncpy(e.detail, detail, sizeof e.detail - 1);
    (void)!write(SBX_INIT_ERROR_FD, &e, sizeof e);
}

static int64_t usec(struct timeval tv)
{
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int main(int argc, char **argv)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &all, NULL);

    if (argc < 2) {
        report_setup_error(SBX_STAGE_INIT, EINVAL, "no program to run");
        return 127;
    }
    fcntl(SBX_INIT_ERROR_FD, F_SETFD, FD_CLOEXEC);
    fcntl(SBX_INIT_REPORT_FD, F_SETFD, FD_CLOEXEC);

    pid_t payload = fork();
    if (payload < 0) {
        report_setup_error(SBX_STAGE_INIT, errno, "fork");
        return 127;
    }
    if (payload == 0) {
        /* A new session: the payload has no controlling terminal to inject input into. */
        setsid();
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[1], argv + 1);
        report_setup_error(SBX_STAGE_EXEC_PAYLOAD, errno, argv[1]);
        _exit(127);
    }
    close(SBX_INIT_ERROR_FD);

    int payload_status = 0;
    for (;;) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0) continue;
        if (sig != SIGCHLD) {
            kill(payload, sig);
            continue;
        }
        int status, done = 0;
        pid_t reaped;
        while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
            if (reaped == payload) {
                payload_status = status;
                done = 1;
            }
        }
        if (done) break;
    }

    struct rusage usage;
    struct sbx_exit_report report;
    memset(&report, 0, sizeof report);
    getrusage(RUSAGE_CHILDREN, &usage);
    report.magic = SBX_EXIT_MAGIC;
    report.wait_status = payload_status;
    report.user_usec = usec(usage.ru_utime);
    report.system_usec = usec(usage.ru_stime);
    report.max_rss_kib = usage.ru_maxrss;
    (void)!write(SBX_INIT_REPORT_FD, &report, sizeof report);

    if (WIFEXITED(payload_status)) return WEXITSTATUS(payload_status);
    return 128 + WTERMSIG(payload_status);
}
