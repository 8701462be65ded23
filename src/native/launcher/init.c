/*
 * sandbox-init: PID 1 of every sandbox (a static executable, so it runs on any root filesystem).
 *
 *   sandbox-init PROGRAM [ARGS...]     environment = the payload's environment
 *
 * The launcher execs it with every signal blocked, every disposition at its default, and two fds by
 * convention:
 *   3 (SBX_INIT_ERROR_FD)  the setup-error pipe; a failed exec of the payload is reported here as one
 *                          sbx_setup_error record, and the host reads EOF once the payload has been exec'd;
 *   4 (SBX_INIT_REPORT_FD) the exit report: the payload's wait status and the rusage of everything
 *                          init reaped, one sbx_exit_report written once before init exits;
 * and, when the sandbox has a seccomp policy, a third:
 *   5 (SBX_INIT_SECCOMP_FD) the compiled filter (struct sock_filter[]), which init reads and closes, and
 *                          the payload's process loads as its last step before exec — so init itself
 *                          runs unfiltered (it must spawn the payload, which a policy may forbid);
 *   6 (SBX_INIT_NOTIFY_FD) with a supervisor in the host: a unix socket. The filter is then loaded with a
 *                          listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which init sends there (SCM_RIGHTS)
 *                          once the payload has exec'd: the payload's spawn shares init's fd table until
 *                          its exec, and the listener is close-on-exec, so init holds it and the payload not.
 * init spawns the payload into a new session, forwards every catchable signal to it, reaps orphans,
 * and exits as soon as the payload does, with the payload's exit code or 128 + the signal that killed
 * it: the kernel then kills whatever else is left in the sandbox's PID namespace.
 *
 * It is built without libc (see freestanding.h), because init runs once per launch and glibc's static
 * start-up dominated it: in a 2-core Firecracker guest, init with static glibc added ~640 µs to a
 * fork + exec + wait of a trivial payload (its start-up executes `cpuid`, which traps to the hypervisor,
 * and it forks a 700 KiB image and faults its pages back in: 41 page faults), and this init, which spawns
 * vfork-style, adds ~150 µs (7 page faults).
 * So only raw system calls here, each returning -errno; the kernel's headers give the constants and
 * <sys/syscall.h> (through raw_syscall.h) the system call numbers, and nothing is linked.
 */
#include "sandbox_plan.h"
#include "raw_syscall.h"
#include "freestanding.h"

#include <linux/errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/fcntl.h>
#include <linux/limits.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/signal.h>
#include <linux/uio.h>
#include <linux/wait.h>

/* The kernel's signal set as rt_sigprocmask and rt_sigtimedwait take it: one bit per signal 1..64. */
typedef uint64_t kernel_sigset;
#define EVERY_SIGNAL (~(kernel_sigset)0) /* the kernel leaves SIGKILL and SIGSTOP out by itself */

/* execvp(3)'s search path when the environment has no PATH. */
static const char default_search_path[] = "/bin:/usr/bin";

static size_t text_length(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

/*
 * Writes one sbx_setup_error record to the error pipe. Nothing can be done if that write fails (the host
 * has gone, or the fd is not the pipe), so its result is deliberately not looked at; the record fits in
 * PIPE_BUF, so it arrives whole or not at all, and no signal can interrupt it (all are blocked).
 */
static void report_setup_error(int stage, long neg_errno, const char *detail)
{
    struct sbx_setup_error e;
    memset(&e, 0, sizeof e);
    e.magic = SBX_ERROR_MAGIC;
    e.stage = stage;
    e.error = (int32_t)-neg_errno;
    e.op_index = -1;
    for (size_t i = 0; i + 1 < sizeof e.detail && detail[i]; i++) e.detail[i] = detail[i];
    (void)RAW3(SYS_write, SBX_INIT_ERROR_FD, &e, sizeof e);
}

/* The value of NAME in the environment, or NULL. */
static const char *environment_value(char **envp, const char *name)
{
    for (; *envp; envp++) {
        const char *entry = *envp;
        size_t i = 0;
        while (name[i] && entry[i] == name[i]) i++;
        if (!name[i] && entry[i] == '=') return entry + i + 1;
    }
    return NULL;
}

/*
 * execve(path) with the payload's argv, which is init's argv without its own argv[0]: init_argv is
 * { "sandbox-init", PROGRAM, ARGS..., NULL }. A file the kernel cannot execute for lack of a "#!" line
 * (ENOEXEC) is run as a shell script, as execvp(3) does: init_argv becomes { "/bin/sh", path, ARGS... }
 * for that one attempt, and put back if it fails (if it succeeds, init never reads them again). Returns
 * -errno.
 */
static long execute_file(const char *path, char **init_argv, char **envp)
{
    static char shell[] = "/bin/sh";
    long r = RAW3(SYS_execve, path, init_argv + 1, envp);
    if (r != -ENOEXEC) return r;

    char *own_name = init_argv[0], *program = init_argv[1];
    init_argv[0] = shell;
    init_argv[1] = (char *)path;
    r = RAW3(SYS_execve, shell, init_argv, envp);
    init_argv[0] = own_name;
    init_argv[1] = program;
    return r;
}

/*
 * Executes PROGRAM as execvp(3) does: a name with a '/' is a path; any other name is looked up in each
 * directory of PATH in turn (an empty entry is the working directory), skipping directories where it is
 * missing or cannot be reached. Returns only on failure, with -errno: EACCES if some file was found but
 * could not be executed, the error of a file that was found but failed otherwise, else ENOENT.
 */
static long execute_payload(char **init_argv, char **envp)
{
    const char *program = init_argv[1];
    size_t program_length = text_length(program);
    if (program_length == 0) return -ENOENT;
    for (size_t i = 0; i < program_length; i++)
        if (program[i] == '/') return execute_file(program, init_argv, envp);
    if (program_length > NAME_MAX) return -ENAMETOOLONG;

    const char *search = environment_value(envp, "PATH");
    if (!search) search = default_search_path;
    char candidate[PATH_MAX];
    int denied = 0;
    for (const char *entry = search;;) {
        const char *end = entry;
        while (*end && *end != ':') end++;
        size_t entry_length = (size_t)(end - entry);
        /* A directory too long to hold the name (the kernel would refuse it anyway) is skipped. */
        if (entry_length + 1 + program_length < sizeof candidate) {
            size_t n = 0;
            for (; n < entry_length; n++) candidate[n] = entry[n];
            if (entry_length > 0) candidate[n++] = '/';
            for (size_t i = 0; i <= program_length; i++) candidate[n + i] = program[i];

            long r = execute_file(candidate, init_argv, envp);
            switch (-r) {
            case EACCES:
                denied = 1;
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
                break;
            default:
                return r;
            }
        }
        if (!*end) break;
        entry = end + 1;
    }
    return denied ? -EACCES : -ENOENT;
}

/* What the payload's side of the spawn needs: init's argv, the environment and the filter, if any. */
struct payload_start {
    char **init_argv;
    char **envp;
    const struct sock_fprog *filter;  /* NULL: no seccomp policy */
    int with_listener;                /* load it with a listener for the host's supervisor */
    long listener;                    /* out: the listener's fd (in the fd table shared with init), or -1 */
};

/* The seccomp program, read from SBX_INIT_SECCOMP_FD before the payload is spawned. */
static struct sock_filter seccomp_instructions[SBX_MAX_SECCOMP_INSTRUCTIONS];
static struct sock_fprog seccomp_program;

/*
 * Reads the filter from SBX_INIT_SECCOMP_FD, if the launcher passed one, and closes that fd (the payload
 * must not inherit it). Returns 0 with *program set (NULL when there is no fd), or -errno; a program that
 * is empty, too long or not whole instructions is EINVAL.
 */
static long read_seccomp_program(const struct sock_fprog **program)
{
    *program = NULL;
    if (RAW3(SYS_fcntl, SBX_INIT_SECCOMP_FD, F_GETFD, 0) < 0) return 0; /* no fd 5: no policy */
    unsigned char *buffer = (unsigned char *)seccomp_instructions;
    size_t capacity = sizeof seccomp_instructions, length = 0;
    long r;
    for (;;) {
        /* One byte of room beyond the largest program tells "too long" from "exactly full". */
        unsigned char probe;
        void *into = length < capacity ? (void *)(buffer + length) : (void *)&probe;
        size_t room = length < capacity ? capacity - length : 1;
        r = RAW4(SYS_pread64, SBX_INIT_SECCOMP_FD, into, room, (long)length);
        if (r == -EINTR) continue;
        if (r <= 0) break;
        length += (size_t)r;
        if (length > capacity) { r = -EINVAL; break; }
    }
    (void)RAW1(SYS_close, SBX_INIT_SECCOMP_FD);
    if (r < 0) return r;
    if (length == 0 || length % sizeof(struct sock_filter) != 0) return -EINVAL;
    seccomp_program.len = (unsigned short)(length / sizeof(struct sock_filter));
    seccomp_program.filter = seccomp_instructions;
    *program = &seccomp_program;
    return 0;
}

/*
 * The payload's side of the spawn, on its own stack, in init's memory (see spawn_payload): a new
 * session, no blocked signal, then the program itself. Only system calls and writes to its own stack,
 * except for the two argv slots execute_file borrows and puts back.
 */
static int run_payload(void *context)
{
    struct payload_start *start = context;
    kernel_sigset none = 0;
    /* A new session: the payload has no controlling terminal to inject input into. A new child is
       never a process-group leader, so setsid cannot fail; it is checked all the same. */
    long r = RAW0(SYS_setsid);
    if (r < 0) {
        report_setup_error(SBX_STAGE_INIT, r, "setsid");
    } else if ((r = RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &none, 0, sizeof none)) < 0) {
        report_setup_error(SBX_STAGE_INIT, r, "rt_sigprocmask");
    } else if (start->filter && (r = RAW3(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                            start->with_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0,
                                            start->filter)) < 0) {
        /* no_new_privs is already set (the launcher set it), so an unprivileged load is allowed. */
        report_setup_error(SBX_STAGE_SECCOMP, r, "seccomp(SECCOMP_SET_MODE_FILTER)");
    } else {
        /* The listener (close-on-exec) lands in the fd table this spawn shares with init. */
        if (start->with_listener) start->listener = r;
        /* From here on the filter applies: execve and, on failure, write and exit must be allowed by it
           (every built-in policy allows them). */
        /* Every disposition is already the default: the launcher reset them before exec'ing init, and
           init installs no handler. */
        r = execute_payload(start->init_argv, start->envp);
        report_setup_error(SBX_STAGE_EXEC_PAYLOAD, r, start->init_argv[1]);
    }
    freestanding_exit(127);
}

/* The payload's stack until it execs (it needs a few KiB: run_payload, execute_payload's PATH_MAX). */
static unsigned char payload_stack[64 * 1024] __attribute__((aligned(16)));

/*
 * Starts the payload as vfork(2) does: the child shares init's memory and init sleeps until the child
 * has exec'd or exited, which spares copying init's page tables and the copy-on-write faults a fork
 * would then take in both processes. The child has its own stack and fd table (no CLONE_FILES), and
 * touches no state of init's but those argv slots. Returns the payload's pid or -errno.
 */
static long spawn_payload(char **init_argv, char **envp, const struct sock_fprog *filter, int with_listener,
                          long *listener)
{
    struct payload_start start = { .init_argv = init_argv, .envp = envp, .filter = filter,
                                   .with_listener = with_listener, .listener = -1 };
    /* With a listener, the spawn shares init's fd table (CLONE_FILES) until its exec, so that the listener it
       creates is init's to send; the exec then gives the payload its own table, without the listener. */
    unsigned long flags = CLONE_VM | CLONE_VFORK | SIGCHLD | (with_listener ? CLONE_FILES : 0);
    long pid = raw_clone_run(flags, payload_stack + sizeof payload_stack, run_payload, &start);
    *listener = *(volatile long *)&start.listener; /* written by the spawn, in this memory */
    return pid;
}

/* The kernel's struct user_msghdr and a control buffer for one fd (SCM_RIGHTS), as sendmsg takes them. */
struct message_header {
    void *name;
    int name_length;
    struct iovec *iov;
    size_t iov_length;
    void *control;
    size_t control_length;
    unsigned int flags;
};
struct control_one_fd {
    size_t length;  /* struct cmsghdr */
    int level;
    int type;
    int fd;
    int padding;    /* CMSG_SPACE(sizeof(int)) on 64-bit */
};

/* Sends the seccomp listener to the host's supervisor and closes both; failures leave the supervisor
   without a listener, which it sees as EOF on its socket, and the payload's notified calls then fail. */
static void send_listener(long listener)
{
    if (listener >= 0) {
        char byte = 'L';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct control_one_fd control = { .length = 20, .level = 1 /* SOL_SOCKET */, .type = 1 /* SCM_RIGHTS */,
                                          .fd = (int)listener, .padding = 0 };
        struct message_header header = { .name = 0, .name_length = 0, .iov = &iov, .iov_length = 1,
                                         .control = &control, .control_length = sizeof control, .flags = 0 };
        long r;
        do r = RAW3(SYS_sendmsg, SBX_INIT_NOTIFY_FD, &header, 0); while (r == -EINTR);
        (void)RAW1(SYS_close, listener);
    }
    (void)RAW1(SYS_close, SBX_INIT_NOTIFY_FD);
}

/* A struct rusage time (its type's name depends on the kernel headers' age) in microseconds. */
#define MICROSECONDS(tv) ((int64_t)(tv).tv_sec * 1000000 + (int64_t)(tv).tv_usec)

/* Reaps every child that has exited; returns 1 (with its status) if the payload was among them. */
static int reap_exited(long payload, int *payload_status)
{
    int payload_exited = 0;
    for (;;) {
        int status = 0;
        long pid = RAW4(SYS_wait4, -1, &status, WNOHANG | __WALL, 0);
        if (pid <= 0) return payload_exited; /* 0: none left to reap now; -ECHILD: no child at all */
        if (pid == payload) {
            *payload_status = status;
            payload_exited = 1;
        }
    }
}

/* Forwards signals to the payload and reaps orphans until the payload exits; returns its wait status. */
static int supervise(long payload)
{
    kernel_sigset every = EVERY_SIGNAL;
    int payload_status = 0;
    for (;;) {
        siginfo_t info;
        long sig = RAW4(SYS_rt_sigtimedwait, &every, &info, 0, sizeof every);
        if (sig == -EINTR) continue; /* e.g. resumed after SIGSTOP */
        if (sig < 0) break;          /* cannot happen with these arguments: see below */
        if (sig == SIGCHLD) {
            if (reap_exited(payload, &payload_status)) return payload_status;
            continue;
        }
        /* Fails only if the payload has made itself another user (a zombie still takes signals, and
           once it is reaped init is gone): then it is out of init's reach, and nothing is better. */
        (void)RAW2(SYS_kill, payload, sig);
    }
    /* Signals can no longer be taken: stop forwarding, wait for the payload alone. */
    long pid;
    do pid = RAW4(SYS_wait4, payload, &payload_status, __WALL, 0); while (pid == -EINTR);
    return pid == payload ? payload_status : SIGKILL; /* the wait status of a process killed by SIGKILL */
}

int freestanding_main(int argc, char **argv, char **envp)
{
    kernel_sigset every = EVERY_SIGNAL;
    long r = RAW4(SYS_rt_sigprocmask, SIG_SETMASK, &every, 0, sizeof every);
    if (r < 0) {
        report_setup_error(SBX_STAGE_INIT, r, "rt_sigprocmask");
        return 127;
    }
    if (argc < 2) {
        report_setup_error(SBX_STAGE_INIT, -EINVAL, "no program to run");
        return 127;
    }
    /* Neither pipe may leak into the payload: the host reads EOF on the first once the exec succeeded. */
    if ((r = RAW3(SYS_fcntl, SBX_INIT_ERROR_FD, F_SETFD, FD_CLOEXEC)) < 0 ||
        (r = RAW3(SYS_fcntl, SBX_INIT_REPORT_FD, F_SETFD, FD_CLOEXEC)) < 0) {
        report_setup_error(SBX_STAGE_INIT, r, "fcntl(FD_CLOEXEC)");
        return 127;
    }

    const struct sock_fprog *filter;
    if ((r = read_seccomp_program(&filter)) < 0) {
        report_setup_error(SBX_STAGE_SECCOMP, r, "read the seccomp program (fd 5)");
        return 127;
    }

    /* A supervisor's socket at fd 6: the payload must not inherit it. */
    int with_listener = 0;
    if (filter && RAW3(SYS_fcntl, SBX_INIT_NOTIFY_FD, F_SETFD, FD_CLOEXEC) == 0) with_listener = 1;

    long listener = -1;
    long payload = spawn_payload(argv, envp, filter, with_listener, &listener);
    if (payload < 0) {
        report_setup_error(SBX_STAGE_INIT, payload, "fork");
        return 127;
    }
    /* Linux releases the fd even when close reports an error, so there is nothing to check. */
    (void)RAW1(SYS_close, SBX_INIT_ERROR_FD);
    /* init needs no standard stream: holding the payload's would keep the host reading until init itself is gone
       (its exit, the PID namespace's teardown); without them the host sees EOF once the payload's side is closed. */
    for (int fd = 0; fd <= 2; fd++) (void)RAW1(SYS_close, fd);
    if (with_listener) send_listener(listener);

    int payload_status = supervise(payload);

    struct sbx_exit_report report;
    struct rusage usage;
    memset(&report, 0, sizeof report);
    report.magic = SBX_EXIT_MAGIC;
    report.wait_status = payload_status;
    /* Cannot fail (the buffer is valid); were it to, the report would carry zero usage. */
    if (RAW2(SYS_getrusage, RUSAGE_CHILDREN, &usage) == 0) {
        report.user_usec = MICROSECONDS(usage.ru_utime);
        report.system_usec = MICROSECONDS(usage.ru_stime);
        report.max_rss_kib = usage.ru_maxrss;
    }
    /* As with the error record: one write that fits in PIPE_BUF, and nobody to tell if it fails. */
    (void)RAW3(SYS_write, SBX_INIT_REPORT_FD, &report, sizeof report);

    int terminating_signal = payload_status & 0x7f;
    if (terminating_signal == 0) return (payload_status >> 8) & 0xff;
    return 128 + terminating_signal;
}
