/*
 * sandbox-probe: runs inside a sandbox and reports what it sees, for the integration tests.
 *
 *   probe hostname            hostname=NAME
 *   probe ids                 uid= gid= euid= egid= groups=G1,G2,...
 *   probe status              CapEff= CapPrm= CapInh= CapBnd= CapAmb= NoNewPrivs= Seccomp= Seccomp_filters= (from
 *                             /proc/self/status; Seccomp is 0 without a filter, 2 with one)
 *   probe pid                 pid= ppid=
 *   probe session             sid= pgid= (of this process)
 *   probe signals             SigBlk= SigIgn= SigCgt= (from /proc/self/status: blocked, ignored, caught)
 *   probe pids                the numeric entries of /proc, one a line
 *   probe netdevs             the interface names of /proc/net/dev, one a line
 *   probe fds                 the open fds (from /proc/self/fd, less the directory's own), one a line
 *   probe env                 the environment, one NAME=VALUE a line
 *   probe write PATH          creates or truncates PATH and writes to it: "ok" or the errno's name (EROFS, ...)
 *   probe exists PATH         "yes" or "no" (lstat)
 *   probe exit N              exits with status N
 *   probe kill-self SIG       kills itself with signal SIG
 *   probe catch-signals       catches every signal it can (1..64 but SIGKILL, SIGSTOP and glibc's own 32 and 33),
 *                             prints "ready", and at the first signal prints "caught=N" and exits 0
 *   probe orphan              forks a child that forks a grandchild and exits at once, so that the grandchild is
 *                             re-parented; prints "orphan_ppid=N" (its new parent), lets it exit, and prints
 *                             "reaped=yes" once it is gone from /proc, "reaped=no state=S" if it is still there
 *                             (a zombie nobody reaps) after 5 s
 *   probe fork-sleepers N ... forks N children that each start a new session and sleep forever, prints
 *                             "sleeper=PID" for each, then sleeps forever itself; any further arguments
 *                             are ignored, so a test can put a marker in every process's /proc/PID/cmdline
 *   probe leave-sleepers N CODE ...
 *                             forks N sleepers as fork-sleepers does, prints "sleeper=PID" for each, then exits
 *                             with status CODE, leaving them running; further arguments are ignored (a marker)
 *   probe sleep SECONDS       sleeps, then prints "slept"
 *   probe spew BYTES          writes BYTES bytes ('x') to standard output
 *   probe echo                copies standard input to standard output line by line, as "echo: LINE"
 *   probe mountinfo           /proc/self/mountinfo
 *   probe hog MIB             maps MIB MiB, touches every page, prints "done" (under a smaller memory limit the
 *                             OOM killer ends it first)
 *   probe touch MIB           maps exactly MIB MiB, touches every page, prints "touched=MIB" and exits 0
 *   probe spin SECONDS        busy loop until this process has used SECONDS (a decimal) of CPU time, then prints
 *                             "spun"; 0 spins forever
 *   probe spin-threads N      starts N threads that each spin forever (the main thread waits)
 *   probe forkbomb ...        every process forks until fork fails, and keeps its children alive; the first
 *                             process then prints "forked=N" (its own children) and "error=ERRNO", waits 500 ms
 *                             and exits 0; any arguments are ignored (a marker, see fork-sleepers). Run it only
 *                             under a process limit
 *   probe cpu-burn MS         a fixed amount of work (MS x BURN_ITERATIONS_PER_MS iterations, about MS ms of CPU
 *                             here), then its own getrusage: "user_us=", "sys_us=", "cpu_us="
 *   probe cpus                Cpus_allowed_list= and Mems_allowed_list= (from /proc/self/status)
 *   probe write-direct PATH MIB
 *                             writes MIB MiB to PATH (created or truncated) with O_DIRECT in 1 MiB writes, so each
 *                             reaches the disk on this process's account; prints "wrote=BYTES" and "ms=MILLISECONDS"
 *                             (monotonic), or the errno's name
 *   probe write-bytes PATH N [ignore-xfsz]
 *                             writes N bytes to PATH (created or truncated) in 4 KiB chunks; prints "wrote=K"
 *                             and "ok" or the errno's name (EFBIG, ...); beyond RLIMIT_FSIZE SIGXFSZ kills it
 *                             unless ignore-xfsz is given
 *
 *   probe network             "netns=" the network namespace (readlink /proc/self/ns/net); "loopback=ok" or the
 *                             errno's name of a TCP round trip over 127.0.0.1; "lo-down=" the errno's name of an
 *                             attempt to take lo down (or "ok")
 *
 *   probe syscall NAME...     makes each named system call (raw syscall(2)) with arguments chosen so that a seccomp
 *                             refusal and the kernel's own answer differ, and prints "NAME=ok" or "NAME=ERRNONAME"
 *                             (e.g. "mount=EPERM") a line. What an unfiltered call returns in an unprivileged sandbox:
 *                               mount            EFAULT (the file-system type is an invalid pointer, checked first)
 *                               umount2          EINVAL (unknown flags, checked before anything else)
 *                               ptrace           ESRCH (PTRACE_ATTACH to a pid that does not exist)
 *                               keyctl           EOPNOTSUPP (an operation that does not exist)
 *                               bpf              EINVAL (a command that does not exist, no attributes)
 *                               unshare-user     ok (unshare(CLONE_NEWUSER): the probe then runs in the new namespace)
 *                               clone-newuser    ok (clone(CLONE_NEWUSER | SIGCHLD): the child exits at once, is reaped)
 *                               setns            EBADF (fd -1)
 *                               clone3           EINVAL (no clone_args, size 0)
 *                               socket-vsock     socket(AF_VSOCK, SOCK_STREAM): ok where vsock exists, else EAFNOSUPPORT
 *                               socket-alg       socket(AF_ALG, SOCK_SEQPACKET): ok where the crypto API is, else
 *                                                EAFNOSUPPORT
 *                               socket-unix      ok (socket(AF_UNIX, SOCK_STREAM))
 *                               socket-inet      ok (socket(AF_INET, SOCK_STREAM))
 *                               personality      ok (READ_IMPLIES_EXEC, a persona Docker's list does not allow; the
 *                                                old one is restored)
 *                               reboot           EPERM without CAP_SYS_BOOT, else EINVAL: the magic numbers are invalid,
 *                                                so even an allowed, privileged call never reboots
 *                               init_module      EPERM without CAP_SYS_MODULE (NULL image, length 0), else EFAULT;
 *                                                ENOSYS on a kernel built without modules
 *                               kexec_load       EPERM without CAP_SYS_BOOT (no segments, invalid flags), else EINVAL;
 *                                                ENOSYS on a kernel built without kexec
 *                               open_by_handle_at  EPERM without CAP_DAC_READ_SEARCH, else EFAULT (fd -1, NULL handle)
 *                               fork             ok (glibc's fork, i.e. clone(SIGCHLD); the child exits at once)
 *                               read, write      ok (one byte through a pipe)
 *                               mmap             ok (one anonymous page, unmapped again)
 *                               futex            ok (FUTEX_WAKE on a private word: wakes nobody)
 *                             an unknown NAME is a usage error
 *   probe threads N           starts N threads that each do a fixed amount of work, joins them, prints "threads=N";
 *                             if one cannot be started prints "threads=ERRNONAME" and exits 1
 *   probe getppid             "getppid=N": the parent's pid, from the getppid system call
 *
 * Every line goes to standard output; usage errors go to standard error with exit status 64.
 * The probe is linked statically so that it runs on any sandbox root.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define USAGE_ERROR 64

static const char *errno_name(int error)
{
    const char *name = strerrorname_np(error);
    return name ? name : "EUNKNOWN";
}

static int fail(const char *what)
{
    fprintf(stderr, "probe: %s: %s\n", what, errno_name(errno));
    return 1;
}

static int is_number(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return 0;
    return 1;
}

static int copy_file(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) return fail(file);
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) fwrite(buffer, 1, n, stdout);
    fclose(f);
    return 0;
}

/* Prints the numeric entries of the directory D, one a line, except SKIP (-1: none), and closes it. */
static int list_numeric_entries(DIR *d, int skip)
{
    struct dirent *e;
    while ((e = readdir(d)))
        if (is_number(e->d_name) && atoi(e->d_name) != skip) puts(e->d_name);
    closedir(d);
    return 0;
}

static int cmd_hostname(void)
{
    char name[256];
    if (gethostname(name, sizeof name) < 0) return fail("gethostname");
    printf("hostname=%s\n", name);
    return 0;
}

static int cmd_ids(void)
{
    gid_t groups[256];
    int n = getgroups(256, groups);
    if (n < 0) return fail("getgroups");
    printf("uid=%u\ngid=%u\neuid=%u\negid=%u\ngroups=", getuid(), getgid(), geteuid(), getegid());
    for (int i = 0; i < n; i++) printf("%s%u", i ? "," : "", groups[i]);
    putchar('\n');
    return 0;
}

/* Prints the FIELDS ("Name:") of /proc/self/status as Name=VALUE lines. */
static int print_status_fields(const char *const *fields)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return fail("/proc/self/status");
    char line[512];
    while (fgets(line, sizeof line, f)) {
        for (const char *const *field = fields; *field; field++) {
            size_t len = strlen(*field);
            if (strncmp(line, *field, len) != 0) continue;
            const char *value = line + len;
            while (*value == ' ' || *value == '\t') value++;
            printf("%.*s=%s", (int)(len - 1), line, value);
        }
    }
    fclose(f);
    return 0;
}

static int cmd_status(void)
{
    static const char *const fields[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:",
                                          "Seccomp_filters:", NULL };
    return print_status_fields(fields);
}

static int cmd_signals(void)
{
    static const char *const fields[] = { "SigBlk:", "SigIgn:", "SigCgt:", NULL };
    return print_status_fields(fields);
}

static int cmd_pid(void)
{
    printf("pid=%d\nppid=%d\n", getpid(), getppid());
    return 0;
}

static int cmd_session(void)
{
    pid_t sid = getsid(0);
    if (sid < 0) return fail("getsid");
    printf("sid=%d\npgid=%d\n", sid, getpgid(0));
    return 0;
}

static int cmd_netdevs(void)
{
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f) return fail("/proc/net/dev");
    char line[512];
    for (int number = 0; fgets(line, sizeof line, f); number++) {
        char *colon = strchr(line, ':');
        if (number < 2 || !colon) continue; /* two header lines */
        *colon = 0;
        char *name = line;
        while (*name == ' ') name++;
        puts(name);
    }
    fclose(f);
    return 0;
}

static int cmd_pids(void)
{
    DIR *d = opendir("/proc");
    if (!d) return fail("/proc");
    return list_numeric_entries(d, -1);
}

static int cmd_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return fail("/proc/self/fd");
    return list_numeric_entries(d, dirfd(d));
}

static int cmd_env(void)
{
    extern char **environ;
    for (char **v = environ; *v; v++) puts(*v);
    return 0;
}

static int cmd_write(const char *path)
{
    static const char text[] = "written by sandbox-probe\n";
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        puts(errno_name(errno));
        return 0;
    }
    ssize_t n = write(fd, text, sizeof text - 1);
    int error = n < 0 ? errno : (size_t)n != sizeof text - 1 ? EIO : 0;
    if (close(fd) < 0 && !error) error = errno;
    puts(error ? errno_name(error) : "ok");
    return 0;
}

static int cmd_exists(const char *path)
{
    struct stat st;
    puts(lstat(path, &st) == 0 ? "yes" : "no");
    return 0;
}

static int cmd_kill_self(int sig)
{
    fflush(stdout);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    /* A signal whose default is to ignore (or that was blocked) lets us get here. */
    fprintf(stderr, "probe: still alive after signal %d\n", sig);
    return 1;
}

static volatile sig_atomic_t caught_signal;

static void record_signal(int sig)
{
    caught_signal = sig;
}

static int cmd_catch_signals(void)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    /* Blocked while the handlers go in, so that "ready" means every one of them is in place. */
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = record_signal;
    sigfillset(&action.sa_mask);
    for (int sig = 1; sig <= 64; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33) continue;
        if (sigaction(sig, &action, NULL) < 0) return fail("sigaction");
    }
    puts("ready");
    fflush(stdout);
    while (!caught_signal) sigsuspend(&none);
    printf("caught=%d\n", (int)caught_signal);
    return 0;
}

/* The "State:" letter of /proc/PID/status, "PPid:" into *ppid; 0 if there is no such process. */
static char process_state(pid_t pid, int *ppid)
{
    char path[64], line[256], state = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "State:", 6)) sscanf(line + 6, " %c", &state);
        if (!strncmp(line, "PPid:", 5) && ppid) *ppid = atoi(line + 5);
    }
    fclose(f);
    return state;
}

static int cmd_orphan(void)
{
    int release[2], report[2];
    if (pipe(release) < 0 || pipe(report) < 0) return fail("pipe");
    fflush(stdout);
    pid_t child = fork();
    if (child < 0) return fail("fork");
    if (child == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            /* Exits once the probe closes its end of the release pipe. */
            char byte;
            close(release[1]);
            while (read(release[0], &byte, 1) > 0) {}
            _exit(0);
        }
        if (write(report[1], &grandchild, sizeof grandchild) != (ssize_t)sizeof grandchild) _exit(1);
        _exit(grandchild < 0 ? 1 : 0);
    }
    close(report[1]);
    pid_t orphan;
    if (read(report[0], &orphan, sizeof orphan) != (ssize_t)sizeof orphan || orphan <= 0) return fail("fork grandchild");
    int status;
    if (waitpid(child, &status, 0) < 0) return fail("waitpid");
    int ppid = -1;
    process_state(orphan, &ppid);
    printf("orphan_ppid=%d\n", ppid);
    fflush(stdout);
    close(release[1]);
    char state = 0;
    for (int waited_ms = 0; waited_ms < 5000; waited_ms += 10) {
        if (!(state = process_state(orphan, NULL))) break;
        usleep(10 * 1000);
    }
    if (state) printf("reaped=no\nstate=%c\n", state);
    else puts("reaped=yes");
    return 0;
}

static int cmd_fork_sleepers(int count, int exit_code)
{
    for (int i = 0; i < count; i++) {
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) return fail("fork");
        if (child == 0) {
            setsid();
            for (;;) pause();
        }
        printf("sleeper=%d\n", child);
    }
    fflush(stdout);
    if (exit_code >= 0) return exit_code;
    for (;;) pause();
}

static int cmd_sleep(unsigned seconds)
{
    while (seconds > 0) seconds = sleep(seconds);
    puts("slept");
    return 0;
}

static int cmd_spew(long long bytes)
{
    char block[8192];
    memset(block, 'x', sizeof block);
    while (bytes > 0) {
        size_t n = bytes < (long long)sizeof block ? (size_t)bytes : sizeof block;
        if (fwrite(block, 1, n, stdout) != n) return fail("write");
        bytes -= (long long)n;
    }
    return 0;
}

static int cmd_echo(void)
{
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        printf("echo: %s", line);
        fflush(stdout);
    }
    return 0;
}

/* Maps MIB MiB of anonymous memory and writes to every page of it; NULL if the mapping fails. */
static char *touch_pages(long mib)
{
    size_t bytes = (size_t)mib << 20;
    if (bytes == 0) return NULL;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    long page = sysconf(_SC_PAGESIZE);
    for (size_t offset = 0; offset < bytes; offset += (size_t)page)
        p[offset] = 1;
    return p;
}

static int cmd_hog(long mib)
{
    if (!touch_pages(mib)) return fail("mmap");
    puts("done");
    return 0;
}

static int cmd_touch(long mib)
{
    if (!touch_pages(mib)) return fail("mmap");
    printf("touched=%ld\n", mib);
    return 0;
}

static double process_cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Work the compiler cannot remove. */
static volatile unsigned long long sink;

static void burn(unsigned long long iterations)
{
    unsigned long long x = sink | 1;
    for (unsigned long long i = 0; i < iterations; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((i & 0xffff) == 0) sink = x;
    }
    sink = x;
}

static int cmd_spin(double seconds)
{
    for (;;) {
        burn(100000);
        if (seconds > 0 && process_cpu_seconds() >= seconds) break;
    }
    puts("spun");
    return 0;
}

static void *spin_forever(void *unused)
{
    (void)unused;
    for (;;) burn(1u << 30);
    return NULL;
}

static int cmd_spin_threads(int count)
{
    for (int i = 0; i < count; i++) {
        pthread_t thread;
        int error = pthread_create(&thread, NULL, spin_forever, NULL);
        if (error) {
            errno = error;
            return fail("pthread_create");
        }
    }
    for (;;) pause();
}

static int cmd_forkbomb(void)
{
    pid_t first = getpid();
    int forked = 0, error = 0;
    for (;;) {
        fflush(stdout);
        pid_t child = fork();
        if (child < 0) {
            error = errno;
            break;
        }
        if (child == 0) {
            forked = 0; /* the child forks on, counting its own children */
            continue;
        }
        forked++;
    }
    if (getpid() != first)
        for (;;) pause();
    printf("forked=%d\nerror=%s\n", forked, errno_name(error));
    fflush(stdout);
    usleep(500000);
    return 0;
}

/* A fixed amount of work per "millisecond": about 1 ms of CPU on the machine the tests were written on. */
#define BURN_ITERATIONS_PER_MS 600000ULL

static int cmd_cpu_burn(long ms)
{
    burn((unsigned long long)ms * BURN_ITERATIONS_PER_MS);
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) < 0) return fail("getrusage");
    long long user = (long long)usage.ru_utime.tv_sec * 1000000 + usage.ru_utime.tv_usec;
    long long sys = (long long)usage.ru_stime.tv_sec * 1000000 + usage.ru_stime.tv_usec;
    printf("user_us=%lld\nsys_us=%lld\ncpu_us=%lld\n", user, sys, user + sys);
    return 0;
}

static int cmd_write_bytes(const char *path, long long bytes, int ignore_xfsz)
{
    if (ignore_xfsz) signal(SIGXFSZ, SIG_IGN);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        puts(errno_name(errno));
        return 0;
    }
    char block[4096];
    memset(block, 'w', sizeof block);
    long long written = 0;
    int error = 0;
    while (written < bytes) {
        size_t n = bytes - written < (long long)sizeof block ? (size_t)(bytes - written) : sizeof block;
        ssize_t w = write(fd, block, n);
        if (w < 0) {
            error = errno;
            break;
        }
        written += w;
    }
    close(fd);
    printf("wrote=%lld\n%s\n", written, error ? errno_name(error) : "ok");
    return 0;
}

/* A TCP connection to ourselves over 127.0.0.1: works only when lo is up. */
static int loopback_round_trip(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), client = -1, server = -1, err = 0;
    char byte = 0;
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 1) < 0
        || getsockname(listener, (struct sockaddr *)&addr, &len) < 0
        || (client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || connect(client, (struct sockaddr *)&addr, sizeof addr) < 0
        || (server = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0
        || write(client, "x", 1) != 1 || read(server, &byte, 1) != 1)
        err = errno ? errno : EIO;
    if (server >= 0) close(server);
    if (client >= 0) close(client);
    if (listener >= 0) close(listener);
    return err;
}

static int cmd_network(void)
{
    char ns[64] = "";
    ssize_t n = readlink("/proc/self/ns/net", ns, sizeof ns - 1);
    if (n > 0) ns[n] = 0;
    printf("netns=%s\n", ns);
    int err = loopback_round_trip();
    printf("loopback=%s\n", err ? errno_name(err) : "ok");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    err = s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ? errno : 0;
    if (!err) {
        ifr.ifr_flags &= ~IFF_UP;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) err = errno;
    }
    if (s >= 0) close(s);
    printf("lo-down=%s\n", err ? errno_name(err) : "ok");
    return 0;
}

static int cmd_cpus(void)
{
    static const char *const fields[] = { "Cpus_allowed_list:", "Mems_allowed_list:", NULL };
    return print_status_fields(fields);
}

static int cmd_write_direct(const char *path, long mib)
{
    const size_t chunk = 1 << 20;
    void *block;
    if (posix_memalign(&block, 4096, chunk) != 0) return fail("posix_memalign");
    memset(block, 'd', chunk);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644);
    if (fd < 0) {
        puts(errno_name(errno));
        return 0;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    long long written = 0;
    for (long i = 0; i < mib; i++) {
        ssize_t w = write(fd, block, chunk);
        if (w < 0) {
            printf("wrote=%lld\n%s\n", written, errno_name(errno));
            close(fd);
            return 0;
        }
        written += w;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    close(fd);
    long long ms = (end.tv_sec - start.tv_sec) * 1000LL + (end.tv_nsec - start.tv_nsec) / 1000000;
    printf("wrote=%lld\nms=%lld\n", written, ms);
    return 0;
}

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define READ_IMPLIES_EXEC_PERSONA 0x0400000

/* A raw system call's result as 0 (success) or its errno. */
static int outcome(long rc)
{
    return rc < 0 ? errno : 0;
}

static int try_socket(int family, int type)
{
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    close(fd);
    return 0;
}

static int try_read_write(int reading)
{
    int fds[2];
    char byte = 'r';
    if (pipe2(fds, O_CLOEXEC) < 0) return errno;
    int err = 0;
    if (reading) {
        if (write(fds[1], &byte, 1) != 1) err = errno ? errno : EIO;
        else if (syscall(SYS_read, fds[0], &byte, 1) != 1) err = errno ? errno : EIO;
    } else if (syscall(SYS_write, fds[1], &byte, 1) != 1) {
        err = errno ? errno : EIO;
    }
    close(fds[0]);
    close(fds[1]);
    return err;
}

static int try_mmap(void)
{
    long page = sysconf(_SC_PAGESIZE);
    long p = syscall(SYS_mmap, NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == -1) return errno;
    munmap((void *)p, (size_t)page);
    return 0;
}

static int try_personality(void)
{
    long old = syscall(SYS_personality, 0xffffffffUL);
    long rc = syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC_PERSONA);
    if (rc < 0) return errno;
    if (old >= 0) syscall(SYS_personality, (unsigned long)old);
    return 0;
}

/* fork (glibc: clone(SIGCHLD)) or a raw clone with FLAGS; the child exits at once and is reaped. */
static int try_fork(unsigned long flags)
{
    fflush(stdout);
    long child = flags ? syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0) : (long)fork();
    if (child < 0) return errno;
    if (child == 0) _exit(0);
    waitpid((pid_t)child, NULL, 0);
    return 0;
}

/* 0 or the errno of NAME's call; -1 for a name the probe does not know. */
static int try_syscall(const char *name)
{
    static int word;
    if (!strcmp(name, "mount")) return outcome(syscall(SYS_mount, "none", "/tmp", (const char *)1, 0UL, NULL));
    if (!strcmp(name, "umount2")) return outcome(syscall(SYS_umount2, "/", ~0));
    if (!strcmp(name, "ptrace")) return outcome(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, 0x3fffffff, NULL, NULL));
    if (!strcmp(name, "keyctl")) return outcome(syscall(SYS_keyctl, 0x7fffffff, 0, 0, 0, 0));
    if (!strcmp(name, "bpf")) return outcome(syscall(SYS_bpf, 0x7fffffff, NULL, 0));
    if (!strcmp(name, "unshare-user")) return outcome(syscall(SYS_unshare, CLONE_NEWUSER));
    if (!strcmp(name, "clone-newuser")) return try_fork(CLONE_NEWUSER);
    if (!strcmp(name, "setns")) return outcome(syscall(SYS_setns, -1, 0));
    if (!strcmp(name, "clone3")) return outcome(syscall(SYS_clone3, NULL, 0));
    if (!strcmp(name, "socket-vsock")) return try_socket(AF_VSOCK, SOCK_STREAM);
    if (!strcmp(name, "socket-alg")) return try_socket(AF_ALG, SOCK_SEQPACKET);
    if (!strcmp(name, "socket-unix")) return try_socket(AF_UNIX, SOCK_STREAM);
    if (!strcmp(name, "socket-inet")) return try_socket(AF_INET, SOCK_STREAM);
    if (!strcmp(name, "personality")) return try_personality();
    if (!strcmp(name, "reboot")) return outcome(syscall(SYS_reboot, 0x12345678, 0x12345678, 0x01234567, NULL));
    if (!strcmp(name, "init_module")) return outcome(syscall(SYS_init_module, NULL, 0UL, ""));
    if (!strcmp(name, "kexec_load")) return outcome(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL));
    if (!strcmp(name, "open_by_handle_at")) return outcome(syscall(SYS_open_by_handle_at, -1, NULL, O_RDONLY));
    if (!strcmp(name, "fork")) return try_fork(0);
    if (!strcmp(name, "read")) return try_read_write(1);
    if (!strcmp(name, "write")) return try_read_write(0);
    if (!strcmp(name, "mmap")) return try_mmap();
    if (!strcmp(name, "futex")) return outcome(syscall(SYS_futex, &word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0));
    return -1;
}

static int cmd_syscall(int count, char **names)
{
    for (int i = 0; i < count; i++) {
        errno = 0;
        int err = try_syscall(names[i]);
        if (err < 0) {
            fprintf(stderr, "probe: unknown system call test '%s'\n", names[i]);
            return USAGE_ERROR;
        }
        printf("%s=%s\n", names[i], err ? errno_name(err) : "ok");
        fflush(stdout);
    }
    return 0;
}

static void *burn_a_while(void *unused)
{
    (void)unused;
    burn(1000000);
    return NULL;
}

static int cmd_threads(int count)
{
    pthread_t threads[256];
    if (count < 1 || count > 256) {
        fputs("probe: threads N takes 1..256\n", stderr);
        return USAGE_ERROR;
    }
    int started = 0, error = 0;
    for (; started < count; started++)
        if ((error = pthread_create(&threads[started], NULL, burn_a_while, NULL)) != 0) break;
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);
    if (error) {
        printf("threads=%s\n", errno_name(error));
        return 1;
    }
    printf("threads=%d\n", count);
    return 0;
}

static int cmd_getppid(void)
{
    printf("getppid=%ld\n", syscall(SYS_getppid));
    return 0;
}

static int usage(void)
{
    fputs("usage: probe hostname | ids | status | signals | pid | session | pids | netdevs | fds | env | write PATH\n"
          "             | exists PATH | exit N | kill-self SIG | catch-signals | orphan | fork-sleepers N [MARKER...]\n"
          "             | leave-sleepers N CODE [MARKER...] | sleep SECONDS | spew BYTES\n"
          "             | echo | mountinfo | hog MIB | touch MIB | spin SECONDS | spin-threads N | forkbomb\n"
          "             | cpu-burn MS | write-bytes PATH N [ignore-xfsz] | cpus | write-direct PATH MIB | network\n"
          "             | syscall NAME... | threads N | getppid\n",
          stderr);
    return USAGE_ERROR;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    const char *cmd = argv[1], *arg = argc > 2 ? argv[2] : NULL;

    if (!strcmp(cmd, "hostname")) return cmd_hostname();
    if (!strcmp(cmd, "ids")) return cmd_ids();
    if (!strcmp(cmd, "status")) return cmd_status();
    if (!strcmp(cmd, "pid")) return cmd_pid();
    if (!strcmp(cmd, "session")) return cmd_session();
    if (!strcmp(cmd, "signals")) return cmd_signals();
    if (!strcmp(cmd, "catch-signals")) return cmd_catch_signals();
    if (!strcmp(cmd, "orphan")) return cmd_orphan();
    if (!strcmp(cmd, "pids")) return cmd_pids();
    if (!strcmp(cmd, "netdevs")) return cmd_netdevs();
    if (!strcmp(cmd, "network")) return cmd_network();
    if (!strcmp(cmd, "fds")) return cmd_fds();
    if (!strcmp(cmd, "env")) return cmd_env();
    if (!strcmp(cmd, "echo")) return cmd_echo();
    if (!strcmp(cmd, "mountinfo")) return copy_file("/proc/self/mountinfo");
    if (!strcmp(cmd, "forkbomb")) return cmd_forkbomb();
    if (!strcmp(cmd, "cpus")) return cmd_cpus();
    if (!strcmp(cmd, "getppid")) return cmd_getppid();
    if (!arg) return usage();
    if (!strcmp(cmd, "syscall")) return cmd_syscall(argc - 2, argv + 2);
    if (!strcmp(cmd, "threads")) return cmd_threads(atoi(arg));
    if (!strcmp(cmd, "write")) return cmd_write(arg);
    if (!strcmp(cmd, "exists")) return cmd_exists(arg);
    if (!strcmp(cmd, "exit")) return atoi(arg);
    if (!strcmp(cmd, "kill-self")) return cmd_kill_self(atoi(arg));
    if (!strcmp(cmd, "fork-sleepers")) return cmd_fork_sleepers(atoi(arg), -1);
    if (!strcmp(cmd, "leave-sleepers") && argc > 3) return cmd_fork_sleepers(atoi(arg), atoi(argv[3]) & 0xff);
    if (!strcmp(cmd, "sleep")) return cmd_sleep((unsigned)atoi(arg));
    if (!strcmp(cmd, "spew")) return cmd_spew(atoll(arg));
    if (!strcmp(cmd, "hog")) return cmd_hog(atol(arg));
    if (!strcmp(cmd, "touch")) return cmd_touch(atol(arg));
    if (!strcmp(cmd, "spin")) return cmd_spin(strtod(arg, NULL));
    if (!strcmp(cmd, "spin-threads")) return cmd_spin_threads(atoi(arg));
    if (!strcmp(cmd, "cpu-burn")) return cmd_cpu_burn(atol(arg));
    if (!strcmp(cmd, "write-direct") && argc > 3) return cmd_write_direct(arg, atol(argv[3]));
    if (!strcmp(cmd, "write-bytes") && argc > 3)
        return cmd_write_bytes(arg, atoll(argv[3]), argc > 4 && !strcmp(argv[4], "ignore-xfsz"));
    return usage();
}
