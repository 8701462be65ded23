/*
 * The native launcher: clone -> set up -> exec, driven by a plan the .NET host prepared.
 *
 * Two sides live in this file:
 *   - the host side (sbx_launch), an ordinary function called on the host's dedicated launcher thread:
 *     it clones the child, writes the uid/gid maps, releases the child and waits until the payload has
 *     been exec'd or the setup failed;
 *   - the child side (child_*), which runs with CLONE_VM on its own stack, shares the host's memory and
 *     TLS, and therefore calls only raw system calls: no libc, no errno, no allocation;
 *   - root templates (sbx_build_root_template): the fixed part of a root, built once by a short-lived child
 *     that runs the same mount steps (child_run_mount_op) into a detached tmpfs, which each launch's child
 *     then copies instead of taking those steps itself, or (sbx_create_root_namespace) a mount namespace with
 *     it as its root, which a spawner enters to clone the child there (spawner_main).
 *
 * The child carries out the plan in a fixed order and reports the first failure as one
 * sbx_setup_error record on a close-on-exec pipe; a successful exec closes that pipe.
 */
#define _GNU_SOURCE
#include "sandbox_plan.h"
#include "raw_syscall.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MNT_DETACH
#define MNT_DETACH 2
#endif

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* clone3's argument, as of Linux 5.7 (CLONE_ARGS_SIZE_VER2, 88 bytes): our own copy, so that what is passed
   does not grow with the build machine's headers. An older kernel refuses the larger size (E2BIG) or the
   unknown flag (EINVAL), and the launcher falls back to clone. */
struct sbx_clone_args {
    uint64_t flags;
    uint64_t pidfd;        /* where CLONE_PIDFD stores the child's pidfd */
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;  /* 0, as with clone(): the host waits with __WALL */
    uint64_t stack;        /* the lowest address of the child's stack */
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;       /* with CLONE_INTO_CGROUP: an fd of the cgroup v2 directory to be born in */
};
_Static_assert(sizeof(struct sbx_clone_args) == 88, "clone_args, version 2");

#define CHILD_STACK_SIZE (256 * 1024)
#define SPAWNER_STACK_SIZE (32 * 1024)
/* A launch's mapping: the child's stack, then the spawner's (only used with a root template's namespace). */
#define LAUNCH_STACKS_SIZE (CHILD_STACK_SIZE + SPAWNER_STACK_SIZE)
#define HIGH_FD_BASE 10
#define PATH_BUFFER 4096

/* ---------------------------------------------------------------- child side: raw helpers */

struct child_context {
    const struct sbx_plan *plan;
    const char *base;
    char *const *init_argv;
    char *const *envp;
    int error_fd;          /* write end of the setup-error pipe */
    int error_read_fd;     /* the host's end: closed in the child */
    int release_fd;        /* read end of the release pipe: the host writes one byte when maps are set */
    int release_write_fd;  /* the host's end: closed in the child */
    int join_cgroup_procs; /* 1: the child writes itself into the plan's cgroup.procs files (not born in its cgroup) */
};

static size_t c_strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void c_copy(char *dst, size_t size, const char *src)
{
    size_t i = 0;
    if (src)
        for (; i + 1 < size && src[i]; i++) dst[i] = src[i];
    dst[i] = 0;
}

static const char *plan_string(const struct child_context *c, uint32_t offset)
{
    return offset ? c->base + offset : NULL;
}

/* Writes "/proc/self/fd/N" into buf: the path through which classic mount(2) reaches an fd. */
static const char *fd_path(char buf[32], int fd)
{
    static const char prefix[] = "/proc/self/fd/";
    char digits[12];
    int n = 0, i = 0;
    do { digits[n++] = (char)('0' + fd % 10); fd /= 10; } while (fd > 0);
    for (; prefix[i]; i++) buf[i] = prefix[i];
    while (n > 0) buf[i++] = digits[--n];
    buf[i] = 0;
    return buf;
}

__attribute__((noreturn)) static void child_exit(int code)
{
    for (;;) RAW1(SYS_exit_group, code);
}

/* Reports the failed stage to the host and exits. One write: the record fits in PIPE_BUF. */
__attribute__((noreturn)) static void child_fail(const struct child_context *c, int stage, long neg_errno,
                                                 int op_index, const char *detail)
{
    struct sbx_setup_error e;
    char *p = (char *)&e;
    for (size_t i = 0; i < sizeof e; i++) p[i] = 0;
    e.magic = SBX_ERROR_MAGIC;
    e.stage = stage;
    e.error = (int)(neg_errno < 0 ? -neg_errno : neg_errno);
    e.op_index = op_index;
    c_copy(e.detail, sizeof e.detail, detail);
    RAW3(SYS_write, c->error_fd, &e, sizeof e);
    child_exit(127);
}

static long child_open_beneath(int dirfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return RAW4(SYS_openat2, dirfd, path, &how, sizeof how);
}

/* Opens a host path for binding; refuses any symlink on the way so the bind is what was named. */
static long child_open_source(const char *path)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    return RAW4(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
}

/* Splits target into its parent (opened beneath root) and last component (copied into leaf). */
static long child_open_parent(int root, const char *target, char leaf[PATH_BUFFER])
{
    char parent[PATH_BUFFER];
    size_t len = c_strlen(target), slash = len;
    if (len == 0 || len >= PATH_BUFFER) return -ENAMETOOLONG;
    while (slash > 0 && target[slash - 1] != '/') slash--;
    c_copy(leaf, PATH_BUFFER, target + slash);
    if (slash == 0) return RAW3(SYS_fcntl, root, F_DUPFD_CLOEXEC, HIGH_FD_BASE);
    c_copy(parent, slash, target); /* drops the trailing '/' */
    return child_open_beneath(root, parent, O_PATH | O_DIRECTORY);
}

static unsigned long mount_attr_flags(uint32_t flags)
{
    unsigned long attr = 0;
    if (flags & SBX_MNT_READONLY) attr |= MOUNT_ATTR_RDONLY;
    if (flags & SBX_MNT_NOSUID) attr |= MOUNT_ATTR_NOSUID;
    if (flags & SBX_MNT_NODEV) attr |= MOUNT_ATTR_NODEV;
    if (flags & SBX_MNT_NOEXEC) attr |= MOUNT_ATTR_NOEXEC;
    return attr;
}

static unsigned long classic_mount_flags(uint32_t flags)
{
    unsigned long ms = 0;
    if (flags & SBX_MNT_READONLY) ms |= MS_RDONLY;
    if (flags & SBX_MNT_NOSUID) ms |= MS_NOSUID;
    if (flags & SBX_MNT_NODEV) ms |= MS_NODEV;
    if (flags & SBX_MNT_NOEXEC) ms |= MS_NOEXEC;
    return ms;
}

/* ---------------------------------------------------------------- child side: overlays */

/* Opens an overlay's file system context and gives it the lower layers, one "lowerdir+" per layer (no
   length limit on the list, Linux >= 6.8). Runs before the staging tmpfs exists: the kernel resolves each
   layer path now, in the host's view (with an idmapped layer, the mount put over it here). Returns the context fd. */
static long child_open_overlay(const struct child_context *c, int index, const struct sbx_mount_op *op)
{
    const char *lowers = plan_string(c, op->source);
    const int32_t *fds = op->layer_fds ? (const int32_t *)(c->base + op->layer_fds) : NULL;
    uint32_t n = 0;
    char layer[PATH_BUFFER];
    long ctx = RAW2(SYS_fsopen, "overlay", FSOPEN_CLOEXEC), r;
    if (ctx < 0) child_fail(c, SBX_STAGE_OVERLAY, ctx, index, "fsopen(overlay)");
    for (size_t start = 0, end; lowers && lowers[start]; start = lowers[end] ? end + 1 : end) {
        for (end = start; lowers[end] && lowers[end] != ':'; end++) {}
        if (end - start >= PATH_BUFFER) child_fail(c, SBX_STAGE_OVERLAY, -ENAMETOOLONG, index, lowers + start);
        c_copy(layer, end - start + 1, lowers + start);
        /* An idmapped layer (attached by child_attach_layers) by its fd: no walk down the host's path, which the
           sandbox user may not search (Linux >= 6.13 takes layers as fds). */
        if (fds && fds[n] >= 0)
            r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_FD, "lowerdir+", 0, fds[n]);
        else
            r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "lowerdir+", layer, 0);
        n++;
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, layer);
    }
    if (op->flags & SBX_MNT_USERXATTR) {
        r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_FLAG, "userxattr", 0, 0);
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "userxattr");
    }
    if (op->flags & SBX_MNT_DISK_UPPER) {
        /* A host directory keeps the writes ("UPPER:WORK", resolved now, in the host's view). Its upper must
           hold whole files and plain directories for a commit to read: no metacopy, no redirects. */
        const char *dirs = plan_string(c, op->data), *key = "upperdir";
        for (size_t start = 0, end; dirs && dirs[start]; start = dirs[end] ? end + 1 : end, key = "workdir") {
            for (end = start; dirs[end] && dirs[end] != ':'; end++) {}
            if (end - start >= PATH_BUFFER) child_fail(c, SBX_STAGE_OVERLAY, -ENAMETOOLONG, index, dirs + start);
            c_copy(layer, end - start + 1, dirs + start);
            r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, key, layer, 0);
            if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, layer);
        }
        r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "metacopy", "off", 0);
        if (r >= 0) r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "redirect_dir", "nofollow", 0);
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "metacopy=off,redirect_dir=nofollow");
    }
    return ctx;
}

/* Attaches the host's idmapped copies of root's layers (an overlay's layer_fds) over the layers' own paths in this
   mount namespace, made private first. An overlay inside a user namespace refuses a detached mount the host made
   (its anonymous mount namespace belongs to the host's user namespace) but takes one attached here; each fd then
   names the attached mount. Runs before the ids are switched: the walk down a root-only store path is the walk
   of that path's owner (the host's uid 0, unmapped here but still the owner). */
static void child_attach_layers(const struct child_context *c)
{
    const struct sbx_plan *p = c->plan;
    const struct sbx_mount_op *ops = (const struct sbx_mount_op *)(c->base + p->mounts);
    char layer[PATH_BUFFER];
    long r = RAW5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0);
    if (r < 0) child_fail(c, SBX_STAGE_MOUNT_PRIVATE, r, -1, "/");
    for (uint32_t i = 0; i < p->mount_count; i++) {
        if (ops[i].kind != SBX_OP_OVERLAY || !ops[i].layer_fds) continue;
        const int32_t *fds = (const int32_t *)(c->base + ops[i].layer_fds);
        const char *lowers = plan_string(c, ops[i].source);
        uint32_t n = 0;
        for (size_t start = 0, end; lowers && lowers[start]; start = lowers[end] ? end + 1 : end, n++) {
            for (end = start; lowers[end] && lowers[end] != ':'; end++) {}
            if (fds[n] < 0) continue;
            if (end - start >= PATH_BUFFER) child_fail(c, SBX_STAGE_OVERLAY, -ENAMETOOLONG, (int)i, lowers + start);
            c_copy(layer, end - start + 1, lowers + start);
            r = RAW5(SYS_move_mount, fds[n], "", AT_FDCWD, layer, MOVE_MOUNT_F_EMPTY_PATH);
            if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, (int)i, layer);
        }
    }
}

/* Joins fd_path(fd) and name ("/proc/self/fd/N/upper"). */
static const char *fd_child_path(char buf[64], int fd, const char *name)
{
    char fdbuf[32];
    size_t i = 0;
    fd_path(fdbuf, fd);
    for (size_t j = 0; fdbuf[j]; j++) buf[i++] = fdbuf[j];
    buf[i++] = '/';
    for (size_t j = 0; name[j] && i < 63; j++) buf[i++] = name[j];
    buf[i] = 0;
    return buf;
}

/* Mounts a fresh tmpfs (data = its options) at target to hold upperdir and workdir (over the root: the staging
   tmpfs already there), finishes the overlay context with them and mounts the overlay on top: writes land in that
   tmpfs and vanish with the sandbox. With SBX_MNT_DISK_UPPER the context has its host upper and work directories
   already: no tmpfs, no directories made here. */
static void child_mount_overlay(const struct child_context *c, int root, int index,
                                const struct sbx_mount_op *op, int ctx)
{
    const char *target = plan_string(c, op->target);
    int is_root = target[0] == '.' && target[1] == 0;
    int disk_upper = (op->flags & SBX_MNT_DISK_UPPER) != 0;
    char fdbuf[32], upper[64], work[64];
    struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
    long fd, scratch, r, mnt;
    /* Over the new root, the staging tmpfs itself holds upper and work (the host sized it with the image's write
       cap): one tmpfs fewer per run, ~25 us (benchmarks: overlay-cost). Elsewhere a tmpfs is mounted for them. */
    if (!is_root && !disk_upper) {
        fd = child_open_beneath(root, target, O_PATH | O_DIRECTORY);
        if (fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, fd, index, target);
        r = RAW5(SYS_mount, "tmpfs", fd_path(fdbuf, (int)fd), "tmpfs", MS_NOSUID | MS_NODEV, plan_string(c, op->data));
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "tmpfs for the upper directory");
        RAW1(SYS_close, fd);
    }
    /* Reopened by name, so the walk crosses onto the tmpfs just mounted there. */
    scratch = is_root ? RAW4(SYS_openat2, AT_FDCWD, plan_string(c, c->plan->root_staging), &how, sizeof how)
                      : child_open_beneath(root, target, O_PATH | O_DIRECTORY);
    if (scratch < 0) child_fail(c, SBX_STAGE_OVERLAY, scratch, index, target);
    if (!disk_upper) {
        r = RAW3(SYS_mkdirat, scratch, "upper", 0755);
        if (r >= 0) r = RAW3(SYS_mkdirat, scratch, "work", 0700);
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "upper and work directories");
        r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "upperdir", fd_child_path(upper, (int)scratch, "upper"), 0);
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "upperdir");
        r = RAW5(SYS_fsconfig, ctx, FSCONFIG_SET_STRING, "workdir", fd_child_path(work, (int)scratch, "work"), 0);
        if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "workdir");
    }
    r = RAW5(SYS_fsconfig, ctx, FSCONFIG_CMD_CREATE, 0, 0, 0);
    if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, "create the overlay");
    mnt = RAW3(SYS_fsmount, ctx, FSMOUNT_CLOEXEC, mount_attr_flags(op->flags));
    if (mnt < 0) child_fail(c, SBX_STAGE_OVERLAY, mnt, index, "fsmount");
    r = RAW5(SYS_move_mount, mnt, "", scratch, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    if (r < 0) child_fail(c, SBX_STAGE_OVERLAY, r, index, target);
    RAW1(SYS_close, mnt);
    RAW1(SYS_close, scratch);
}

/* ---------------------------------------------------------------- child side: the mount plan */

/* A new detached mount of a file system (tmpfs, proc, devpts) with options "key=value,flag,..." (each one fsconfig
   call) and mount attributes attr, by the new mount API: it needs no path to mount on (no /proc/self/fd/N, which a
   /proc of another pid namespace does not have) and can go beneath a detached tree. Failures report stage. */
static long new_mount(const struct child_context *c, int stage, int index, const char *type, const char *options,
                      unsigned long attr)
{
    char option[256];
    long r, fs = RAW2(SYS_fsopen, type, FSOPEN_CLOEXEC);
    if (fs < 0) child_fail(c, stage, fs, index, "fsopen");
    r = RAW5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", type, 0); /* as mount(2) names it */
    if (r < 0) child_fail(c, stage, r, index, "source");
    for (size_t start = 0, end; options && options[start]; start = options[end] ? end + 1 : end) {
        size_t eq = 0;
        for (end = start; options[end] && options[end] != ','; end++)
            if (!eq && options[end] == '=') eq = end - start;
        if (end - start >= sizeof option) child_fail(c, stage, -EINVAL, index, options + start);
        c_copy(option, end - start + 1, options + start);
        if (eq) option[eq] = 0;
        r = eq ? RAW5(SYS_fsconfig, fs, FSCONFIG_SET_STRING, option, option + eq + 1, 0)
               : RAW5(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, option, 0, 0);
        if (r < 0) child_fail(c, stage, r, index, options + start);
    }
    r = RAW5(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0);
    if (r < 0) child_fail(c, stage, r, index, type);
    long mnt = RAW3(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attr);
    if (mnt < 0) child_fail(c, stage, mnt, index, "fsmount");
    RAW1(SYS_close, fs);
    return mnt;
}


static void child_run_mount_op(const struct child_context *c, int root, int index,
                               const struct sbx_mount_op *op, int source_fd)
{
    const char *target = plan_string(c, op->target);
    const char *data = plan_string(c, op->data);
    char leaf[PATH_BUFFER], fdbuf[32];
    long parent, fd, r;

    switch (op->kind) {
    case SBX_OP_MKDIR:
        parent = child_open_parent(root, target, leaf);
        if (parent < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, parent, index, target);
        r = RAW3(SYS_mkdirat, parent, leaf, op->mode);
        if (r == -EEXIST) {
            fd = child_open_beneath(root, target, O_PATH | O_DIRECTORY);
            if (fd < 0) child_fail(c, SBX_STAGE_MKDIR, fd, index, target);
            RAW1(SYS_close, fd);
        } else if (r < 0) {
            child_fail(c, SBX_STAGE_MKDIR, r, index, target);
        }
        RAW1(SYS_close, parent);
        return;

    case SBX_OP_MKFILE:
    case SBX_OP_WRITE_FILE:
        parent = child_open_parent(root, target, leaf);
        if (parent < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, parent, index, target);
        fd = RAW4(SYS_openat, parent, leaf,
                  O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (op->kind == SBX_OP_WRITE_FILE ? O_TRUNC : 0),
                  op->mode);
        if (fd < 0)
            child_fail(c, op->kind == SBX_OP_MKFILE ? SBX_STAGE_MKFILE : SBX_STAGE_WRITE_FILE, fd, index, target);
        for (uint32_t done = 0; op->kind == SBX_OP_WRITE_FILE && done < op->data_len;) {
            r = RAW3(SYS_write, fd, data + done, op->data_len - done);
            if (r == -EINTR) continue;
            if (r <= 0) child_fail(c, SBX_STAGE_WRITE_FILE, r ? r : -EIO, index, target);
            done += (uint32_t)r;
        }
        RAW1(SYS_close, fd);
        RAW1(SYS_close, parent);
        return;

    case SBX_OP_SYMLINK:
        parent = child_open_parent(root, target, leaf);
        if (parent < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, parent, index, target);
        r = RAW3(SYS_symlinkat, plan_string(c, op->source), parent, leaf);
        if (r < 0) child_fail(c, SBX_STAGE_SYMLINK, r, index, target);
        RAW1(SYS_close, parent);
        return;

    case SBX_OP_BIND: {
        if (source_fd < 0) return; /* an optional source that does not exist */
        long target_fd = child_open_beneath(root, target, O_PATH);
        if (target_fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, target_fd, index, target);
        unsigned int tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH;
        if (op->flags & SBX_MNT_RECURSIVE) tree_flags |= AT_RECURSIVE;
        long tree = RAW3(SYS_open_tree, source_fd, "", tree_flags);
        if (tree < 0) child_fail(c, SBX_STAGE_BIND, tree, index, plan_string(c, op->source));
        struct mount_attr attr = { .attr_set = mount_attr_flags(op->flags) };
        if (attr.attr_set) {
            r = RAW5(SYS_mount_setattr, tree, "",
                     AT_EMPTY_PATH | ((op->flags & SBX_MNT_RECURSIVE) ? AT_RECURSIVE : 0), &attr, sizeof attr);
            if (r < 0) child_fail(c, SBX_STAGE_BIND, r, index, target);
        }
        r = RAW5(SYS_move_mount, tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        if (r < 0) child_fail(c, SBX_STAGE_BIND, r, index, target);
        RAW1(SYS_close, tree);
        RAW1(SYS_close, target_fd);
        return;
    }

    case SBX_OP_TMPFS:
    case SBX_OP_PROC:
    case SBX_OP_DEVPTS: {
        static const char *const types[] = { [SBX_OP_TMPFS] = "tmpfs", [SBX_OP_PROC] = "proc", [SBX_OP_DEVPTS] = "devpts" };
        static const int stages[] = { [SBX_OP_TMPFS] = SBX_STAGE_TMPFS, [SBX_OP_PROC] = SBX_STAGE_PROC,
                                      [SBX_OP_DEVPTS] = SBX_STAGE_DEVPTS };
        fd = child_open_beneath(root, target, O_PATH | O_DIRECTORY);
        if (fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, fd, index, target);
        if (c->plan->root_namespace_fd >= 0) {
            /* In the template's namespace /proc is one of another pid namespace: no /proc/self/fd path to mount on. */
            long mnt = new_mount(c, stages[op->kind], index, types[op->kind], data, mount_attr_flags(op->flags));
            r = RAW5(SYS_move_mount, mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
            RAW1(SYS_close, mnt);
        } else {
            r = RAW5(SYS_mount, types[op->kind], fd_path(fdbuf, (int)fd), types[op->kind],
                     classic_mount_flags(op->flags), data);
        }
        if (r < 0) child_fail(c, stages[op->kind], r, index, target);
        RAW1(SYS_close, fd);
        return;
    }

    case SBX_OP_REMOUNT: {
        fd = child_open_beneath(root, target, O_PATH);
        if (fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, fd, index, target);
        struct mount_attr attr = { .attr_set = mount_attr_flags(op->flags) };
        r = RAW5(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | ((op->flags & SBX_MNT_RECURSIVE) ? AT_RECURSIVE : 0),
                 &attr, sizeof attr);
        if (r < 0) child_fail(c, SBX_STAGE_REMOUNT, r, index, target);
        RAW1(SYS_close, fd);
        return;
    }

    case SBX_OP_OVERLAY:
        child_mount_overlay(c, root, index, op, source_fd);
        return;

    case SBX_OP_ATTACH: {
        /* A copy of a sealed template of this subtree (its binds and files made once by the host). */
        const int32_t *fds = (const int32_t *)(c->base + op->layer_fds);
        fd = child_open_beneath(root, target, O_PATH | O_DIRECTORY);
        if (fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, fd, index, target);
        long tree = RAW3(SYS_open_tree, fds[0], "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0) child_fail(c, SBX_STAGE_TMPFS, tree, index, "copy of the template");
        r = RAW5(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
        if (r < 0) child_fail(c, SBX_STAGE_TMPFS, r, index, target);
        RAW1(SYS_close, tree);
        RAW1(SYS_close, fd);
        return;
    }

    default:
        child_fail(c, SBX_STAGE_PLAN, -EINVAL, index, "unknown mount op");
    }
}

/* Builds the new root on a tmpfs at root_staging, pivots into it and drops the old root. */
static void child_build_root(const struct child_context *c)
{
    const struct sbx_plan *p = c->plan;
    const struct sbx_mount_op *ops = (const struct sbx_mount_op *)(c->base + p->mounts);
    int source_fds[SBX_MAX_MOUNT_OPS];
    long r;
    /* The mount namespace was made private by child_attach_layers. */

    if (p->root_namespace_fd >= 0) {
        /* Born in a copy of the template's namespace: the root is in place; only the fresh steps are left, and
           none names a host path (plan_is_valid). No pivot, so no unmount of a host tree and no wait for it. */
        struct open_how here = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
        long top = RAW4(SYS_openat2, AT_FDCWD, "/", &here, sizeof here);
        if (top < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, top, -1, "/");
        for (uint32_t i = 0; i < p->mount_count; i++) child_run_mount_op(c, (int)top, (int)i, &ops[i], -1);
        r = RAW1(SYS_chdir, "/");
        if (r < 0) child_fail(c, SBX_STAGE_PIVOT_ROOT, r, -1, "/");
        if (p->flags & SBX_PLAN_ROOT_READONLY) {
            struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
            r = RAW5(SYS_mount_setattr, top, "", AT_EMPTY_PATH, &attr, sizeof attr);
            if (r < 0) child_fail(c, SBX_STAGE_ROOT_READONLY, r, -1, "/");
        }
        RAW1(SYS_close, top);
        return;
    }

    /* Sources are opened first, in the host's view, before the staging tmpfs can hide any of them. */
    for (uint32_t i = 0; i < p->mount_count; i++) {
        source_fds[i] = -1;
        if (ops[i].kind == SBX_OP_OVERLAY) {
            source_fds[i] = (int)child_open_overlay(c, (int)i, &ops[i]);
            continue;
        }
        if (ops[i].kind != SBX_OP_BIND) continue;
        r = child_open_source(plan_string(c, ops[i].source));
        if (r == -ENOENT && (ops[i].flags & SBX_MNT_OPTIONAL)) continue;
        if (r < 0) child_fail(c, SBX_STAGE_OPEN_BIND_SOURCE, r, (int)i, plan_string(c, ops[i].source));
        source_fds[i] = (int)r;
    }

    const char *staging = plan_string(c, p->root_staging);
    if (p->root_template_fd >= 0) {
        /* A copy of the host's read-only root template (its binds and files made once), attached where the tmpfs
           would go: what is left of the mount plan is what this sandbox gets fresh. */
        long tree = RAW3(SYS_open_tree, p->root_template_fd, "",
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (tree < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, tree, -1, "copy of the root template");
        r = RAW5(SYS_move_mount, tree, "", AT_FDCWD, staging, MOVE_MOUNT_F_EMPTY_PATH);
        if (r < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, r, -1, staging);
        RAW1(SYS_close, tree);
    } else {
        r = RAW5(SYS_mount, "tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, plan_string(c, p->root_options));
        if (r < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, r, -1, staging);
    }
    struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_NO_SYMLINKS };
    long root = RAW4(SYS_openat2, AT_FDCWD, staging, &how, sizeof how);
    if (root < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, root, -1, staging);

    for (uint32_t i = 0; i < p->mount_count; i++) {
        child_run_mount_op(c, (int)root, (int)i, &ops[i], source_fds[i]);
        if (source_fds[i] >= 0) RAW1(SYS_close, source_fds[i]);
        if (ops[i].kind == SBX_OP_OVERLAY && ops[i].target && c->base[ops[i].target] == '.' && !c->base[ops[i].target + 1]) {
            /* An overlay over the new root is the new root: later ops and pivot_root use it. */
            RAW1(SYS_close, root);
            root = RAW4(SYS_openat2, AT_FDCWD, staging, &how, sizeof how);
            if (root < 0) child_fail(c, SBX_STAGE_OVERLAY, root, (int)i, staging);
        }
    }

    r = RAW1(SYS_fchdir, root);
    if (r >= 0) r = RAW2(SYS_pivot_root, ".", ".");
    if (r >= 0) r = RAW2(SYS_umount2, ".", MNT_DETACH);
    if (r >= 0) r = RAW1(SYS_chdir, "/");
    if (r < 0) child_fail(c, SBX_STAGE_PIVOT_ROOT, r, -1, staging);

    if (p->flags & SBX_PLAN_ROOT_READONLY) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        r = RAW5(SYS_mount_setattr, root, "", AT_EMPTY_PATH, &attr, sizeof attr);
        if (r < 0) child_fail(c, SBX_STAGE_ROOT_READONLY, r, -1, "/");
    }
    RAW1(SYS_close, root);
}

/* ---------------------------------------------------------------- child side: identity and exec */

/* Brings `lo` up in the caller's network namespace. Raw system calls only: the child calls it too.
   Returns 0 or -errno. */
static long loopback_up(void)
{
    struct ifreq ifr;
    char *p = (char *)&ifr;
    for (size_t i = 0; i < sizeof ifr; i++) p[i] = 0;
    c_copy(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    long s = RAW3(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return s;
    long r = RAW3(SYS_ioctl, s, SIOCGIFFLAGS, &ifr);
    if (r >= 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        r = RAW3(SYS_ioctl, s, SIOCSIFFLAGS, &ifr);
    }
    RAW1(SYS_close, s);
    return r < 0 ? r : 0;
}

static void child_loopback_up(const struct child_context *c)
{
    long r = loopback_up();
    if (r < 0) child_fail(c, SBX_STAGE_LOOPBACK, r, -1, "lo");
}

/* setgroups/setresgid/setresuid. In a user namespace this happens before the mounts, so that what the
   setup creates is owned by a mapped id (an unmapped owner fails with EOVERFLOW); the capabilities the
   namespace granted survive it because the sandbox user is not the namespace's root. */
static void child_switch_ids(const struct child_context *c)
{
    const struct sbx_plan *p = c->plan;
    long r;
    if (p->flags & SBX_PLAN_CLEAR_GROUPS) {
        r = RAW2(SYS_setgroups, 0, 0);
        if (r < 0) child_fail(c, SBX_STAGE_SETGROUPS, r, -1, "setgroups");
    }
    r = RAW3(SYS_setresgid, p->gid, p->gid, p->gid);
    if (r < 0) child_fail(c, SBX_STAGE_SETGID, r, -1, "gid");
    r = RAW3(SYS_setresuid, p->uid, p->uid, p->uid);
    if (r < 0) child_fail(c, SBX_STAGE_SETUID, r, -1, "uid");
}

static void child_drop_privileges(const struct child_context *c, int ids_switched)
{
    const struct sbx_plan *p = c->plan;
    long r;

    if (p->flags & SBX_PLAN_DROP_CAPS) {
        for (long cap = 0; cap < 64; cap++) {
            r = RAW5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
            if (r == -EINVAL) break; /* past CAP_LAST_CAP */
            if (r < 0) child_fail(c, SBX_STAGE_CAPABILITIES, r, -1, "bounding set");
        }
        r = RAW5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        if (r < 0 && r != -EINVAL) child_fail(c, SBX_STAGE_CAPABILITIES, r, -1, "ambient set");
    }
    if (!ids_switched) child_switch_ids(c);
    if (p->flags & SBX_PLAN_DROP_CAPS) {
        struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
        struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };
        r = RAW2(SYS_capset, &header, data);
        if (r < 0) child_fail(c, SBX_STAGE_CAPABILITIES, r, -1, "capset");
    }

    /* Changing ids cleared the parent-death signal: set it again, then make sure the host is still
       there (it holds the release pipe's write end open until the launch is over). */
    r = RAW5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (r < 0) child_fail(c, SBX_STAGE_PARENT_DEATH, r, -1, "PR_SET_PDEATHSIG");
    struct pollfd pfd = { .fd = c->release_fd, .events = POLLIN };
    struct timespec zero = { 0, 0 };
    r = RAW5(SYS_ppoll, &pfd, 1, &zero, 0, 0);
    if (r > 0 && (pfd.revents & POLLHUP)) child_exit(127);

    if (p->flags & SBX_PLAN_NO_NEW_PRIVS) {
        r = RAW5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        if (r < 0) child_fail(c, SBX_STAGE_NO_NEW_PRIVS, r, -1, "PR_SET_NO_NEW_PRIVS");
    }
}

/* Places stdio at 0..2, the error pipe at 3, the report pipe at 4, the seccomp program (if any) at 5 and
   the supervisor's socket (if any) at 6; everything else closes on exec. */
static int child_arrange_fds(struct child_context *c, int *init_fd)
{
    const struct sbx_plan *p = c->plan;
    int wanted[7] = { p->stdin_fd, p->stdout_fd, p->stderr_fd, c->error_fd, p->report_fd, p->seccomp_fd, p->notify_fd };
    int count = p->notify_fd >= 0 ? 7 : p->seccomp_fd >= 0 ? 6 : 5;
    long high[7], r;

    for (int i = 0; i < count; i++) {
        if (wanted[i] < 0) {
            high[i] = RAW4(SYS_openat, AT_FDCWD, "/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC, 0);
            if (high[i] < 0) child_fail(c, SBX_STAGE_STDIO, high[i], -1, "/dev/null");
        } else {
            high[i] = RAW3(SYS_fcntl, wanted[i], F_DUPFD_CLOEXEC, HIGH_FD_BASE);
            if (high[i] < 0) child_fail(c, SBX_STAGE_STDIO, high[i], -1, "dup");
        }
    }
    r = RAW3(SYS_fcntl, *init_fd, F_DUPFD_CLOEXEC, HIGH_FD_BASE);
    if (r < 0) child_fail(c, SBX_STAGE_STDIO, r, -1, "dup init");
    *init_fd = (int)r;
    for (int i = 0; i < count; i++) {
        r = RAW3(SYS_dup3, high[i], i, 0);
        if (r < 0) child_fail(c, SBX_STAGE_STDIO, r, -1, "dup3");
        if (i == SBX_INIT_ERROR_FD) c->error_fd = SBX_INIT_ERROR_FD;
    }
    r = RAW3(SYS_close_range, (unsigned)count, ~0U, CLOSE_RANGE_CLOEXEC);
    if (r < 0) child_fail(c, SBX_STAGE_STDIO, r, -1, "close_range");
    return 0;
}

static int child_main(void *arg)
{
    struct child_context c = *(struct child_context *)arg; /* a private copy on the child's stack */
    const struct sbx_plan *p = c.plan;
    uint64_t dfl[4] = { 0, 0, 0, 0 };
    long r;
    char byte;

    /* The host's handlers must never run here: reset every signal, still blocked, to its default. */
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP) RAW4(SYS_rt_sigaction, sig, dfl, 0, 8);
    r = RAW5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (r < 0) child_fail(&c, SBX_STAGE_PARENT_DEATH, r, -1, "PR_SET_PDEATHSIG");
    RAW1(SYS_close, c.error_read_fd);
    RAW1(SYS_close, c.release_write_fd);

    /* Unless it was born in its cgroup (clone3), the child joins the sandbox's cgroups itself, before it runs a
       single instruction of the payload and while the host writes its id maps, so the two run side by side.
       Writing "0" moves the writer; its ids are not switched yet, so the kernel's permission check sees the
       host's own (cgroup v1: a root euid, or the owner of the delegated v2 subtree). */
    const uint32_t *procs = (const uint32_t *)(c.base + p->cgroup_procs);
    const int32_t *opened = p->cgroup_procs_fds ? (const int32_t *)(c.base + p->cgroup_procs_fds) : 0;
    for (uint32_t i = 0; c.join_cgroup_procs && i < p->cgroup_procs_count; i++) {
        const char *file = c.base + procs[i];
        long fd = opened && opened[i] >= 0 ? opened[i] : RAW4(SYS_openat, AT_FDCWD, file, O_WRONLY | O_CLOEXEC, 0);
        if (fd < 0) child_fail(&c, SBX_STAGE_JOIN_CGROUP, fd, -1, file);
        r = RAW3(SYS_write, fd, "0", 1);
        if (!opened || opened[i] < 0) RAW1(SYS_close, fd); /* the host's fds close with the rest before the exec */
        if (r < 0) child_fail(&c, SBX_STAGE_JOIN_CGROUP, r, -1, file);
    }

    do r = RAW3(SYS_read, c.release_fd, &byte, 1); while (r == -EINTR);
    if (r != 1) child_exit(127); /* the host went away before releasing us */

    if (p->clone_flags & CLONE_NEWCGROUP) {
        r = RAW1(SYS_unshare, CLONE_NEWCGROUP);
        if (r < 0) child_fail(&c, SBX_STAGE_CGROUP_NAMESPACE, r, -1, "unshare(CLONE_NEWCGROUP)");
    }

    int in_user_ns = (p->clone_flags & CLONE_NEWUSER) != 0;
    if (p->flags & SBX_PLAN_NEW_ROOT) child_attach_layers(&c);
    if (in_user_ns) child_switch_ids(&c);
    if (p->flags & SBX_PLAN_NEW_ROOT) child_build_root(&c);

    const char *hostname = plan_string(&c, p->hostname);
    if (hostname) {
        r = RAW2(SYS_sethostname, hostname, c_strlen(hostname));
        if (r < 0) child_fail(&c, SBX_STAGE_HOSTNAME, r, -1, hostname);
    }
    if (p->flags & SBX_PLAN_LOOPBACK_UP) child_loopback_up(&c);

    const struct sbx_rlimit *limits = (const struct sbx_rlimit *)(c.base + p->rlimits);
    for (uint32_t i = 0; i < p->rlimit_count; i++) {
        uint64_t value[2] = { limits[i].soft, limits[i].hard };
        r = RAW4(SYS_prlimit64, 0, limits[i].resource, value, 0);
        if (r < 0) child_fail(&c, SBX_STAGE_RLIMIT, r, (int)i, "prlimit");
    }

    child_drop_privileges(&c, in_user_ns);

    const char *cwd = plan_string(&c, p->cwd);
    if (cwd) {
        r = RAW1(SYS_chdir, cwd);
        if (r < 0) child_fail(&c, SBX_STAGE_CHDIR, r, -1, cwd);
    }

    int init_fd = p->init_fd;
    child_arrange_fds(&c, &init_fd);

    /* Signals stay blocked across the exec: init installs its own handling before unblocking. */
    r = raw_syscall6(SYS_execveat, init_fd, (long)"", (long)c.init_argv, (long)c.envp, AT_EMPTY_PATH, 0);
    child_fail(&c, SBX_STAGE_EXEC_INIT, r, -1, "sandbox-init");
}

/* ---------------------------------------------------------------- host side */

static void result_error(struct sbx_launch_result *res, int stage, int err, const char *detail)
{
    memset(&res->error, 0, sizeof res->error);
    res->error.magic = SBX_ERROR_MAGIC;
    res->error.stage = stage;
    res->error.error = err;
    res->error.op_index = -1;
    c_copy(res->error.detail, sizeof res->error.detail, detail);
}

static int write_proc_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int err = n < 0 ? errno : ((size_t)n != len ? EIO : 0);
    close(fd);
    return -err;
}

static int plan_is_valid(const struct sbx_plan *p)
{
    if (!p || p->magic != SBX_PLAN_MAGIC || p->version != SBX_PLAN_VERSION) return 0;
    if (p->total_size < sizeof *p || p->argc == 0) return 0;
    if (p->mount_count > SBX_MAX_MOUNT_OPS || p->rlimit_count > SBX_MAX_RLIMITS) return 0;
    if ((uint64_t)p->mounts + (uint64_t)p->mount_count * sizeof(struct sbx_mount_op) > p->total_size) return 0;
    if ((uint64_t)p->rlimits + (uint64_t)p->rlimit_count * sizeof(struct sbx_rlimit) > p->total_size) return 0;
    if ((uint64_t)p->argv + (uint64_t)p->argc * 4 > p->total_size) return 0;
    if ((uint64_t)p->envp + (uint64_t)p->envc * 4 > p->total_size) return 0;
    if (p->cgroup_procs_count > SBX_MAX_CGROUP_FILES) return 0;
    /* Where clone3 cannot put the child into its cgroup, the host writes cgroup.procs: it must be named too. */
    if (p->cgroup_fd >= 0 && p->cgroup_procs_count == 0) return 0;
    if ((uint64_t)p->cgroup_procs + (uint64_t)p->cgroup_procs_count * 4 > p->total_size) return 0;
    if (p->cgroup_procs_fds && (uint64_t)p->cgroup_procs_fds + (uint64_t)p->cgroup_procs_count * 4 > p->total_size) return 0;
    if ((p->flags & SBX_PLAN_NEW_ROOT) && (!p->root_staging || !p->root_options)) return 0;
    /* An overlay's layer fds: one int32 per lower directory of its source, inside the block. */
    const struct sbx_mount_op *ops = (const struct sbx_mount_op *)((const char *)p + p->mounts);
    for (uint32_t i = 0; i < p->mount_count; i++) {
        if (ops[i].kind == SBX_OP_ATTACH) {
            if (!ops[i].layer_fds || (uint64_t)ops[i].layer_fds + 4 > p->total_size) return 0;
            continue;
        }
        if (!ops[i].layer_fds) continue;
        if (ops[i].kind != SBX_OP_OVERLAY || !ops[i].source || ops[i].source >= p->total_size) return 0;
        uint64_t lowers = 1;
        for (const char *s = (const char *)p + ops[i].source; *s; s++) lowers += *s == ':';
        if ((uint64_t)ops[i].layer_fds + lowers * 4 > p->total_size) return 0;
    }
    /* A prepared network namespace replaces a new one: asking for both is a contradiction. */
    if (p->net_ns_fd >= 0 && (p->clone_flags & CLONE_NEWNET)) return 0;
    /* A supervisor needs a filter to listen to. */
    if (p->notify_fd >= 0 && p->seccomp_fd < 0) return 0;
    /* A root template is a new root's starting point; one in a namespace of its own is the whole of it. */
    if ((p->root_template_fd >= 0 || p->root_namespace_fd >= 0) && !(p->flags & SBX_PLAN_NEW_ROOT)) return 0;
    if (p->root_namespace_fd >= 0 && (p->root_template_fd >= 0 || !(p->clone_flags & CLONE_NEWNS))) return 0;
    /* Inside the template's namespace the host's paths are out of reach: nothing may name one. */
    if (p->root_namespace_fd >= 0) {
        if (p->cgroup_procs_count && !p->cgroup_procs_fds) return 0;
        const int32_t *opened = p->cgroup_procs_fds ? (const int32_t *)((const char *)p + p->cgroup_procs_fds) : NULL;
        for (uint32_t i = 0; opened && i < p->cgroup_procs_count; i++)
            if (opened[i] < 0) return 0;
        for (uint32_t i = 0; i < p->mount_count; i++)
            if (ops[i].kind == SBX_OP_BIND || ops[i].kind == SBX_OP_OVERLAY) return 0;
    }
    return 1;
}

/*
 * Clones the child onto its stack, where it runs child_main. With a cgroup fd in the plan (cgroup v2), clone3 with
 * CLONE_INTO_CGROUP first: the child is born in the sandbox's cgroup, so there is no moment at which it runs
 * outside it and no cgroup.procs write (nor the cgroup_threadgroup_rwsem that write takes). A kernel without clone3
 * (or a seccomp filter around the host that hides it: ENOSYS), without CLONE_INTO_CGROUP (5.3-5.6: E2BIG, EINVAL)
 * gets the clone below instead, and *fallback_error says why; the caller then writes the plan's cgroup_procs.
 * EINVAL for another reason fails the clone the same way, which then reports it as before. Any other clone3 error
 * (a cgroup that is not a leaf, not writable, gone) fails the launch: falling back would hide it.
 * Returns the pid, or -1 with *error set.
 */
static pid_t clone_child(const struct sbx_plan *plan, int flags, void *stack, struct child_context *context,
                         int *pidfd, int *joined, int *fallback_error, int *error)
{
    *joined = 0;
    *fallback_error = 0;
    if (plan->cgroup_fd >= 0) {
        struct sbx_clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)(unsigned int)flags | CLONE_INTO_CGROUP;
        args.pidfd = (uint64_t)(uintptr_t)pidfd;
        args.stack = (uint64_t)(uintptr_t)stack;
        args.stack_size = CHILD_STACK_SIZE;
        args.cgroup = (uint64_t)plan->cgroup_fd;
        context->join_cgroup_procs = 0;
        long r = raw_clone3_run(&args, sizeof args, child_main, context);
        if (r > 0) {
            *joined = SBX_JOIN_CLONE_INTO_CGROUP;
            return (pid_t)r;
        }
        if (r != -ENOSYS && r != -E2BIG && r != -EINVAL) {
            *error = (int)-r;
            return -1;
        }
        *fallback_error = (int)-r;
    }
    context->join_cgroup_procs = plan->cgroup_procs_count > 0;
    if (context->join_cgroup_procs) *joined = SBX_JOIN_CGROUP_PROCS;
    pid_t pid = clone(child_main, (char *)stack + CHILD_STACK_SIZE, flags, context, pidfd);
    if (pid < 0) *error = errno;
    return pid;
}

/* Kills the half-made sandbox and waits for it, so that nothing of it (nor its stack) is in use. */
static void abandon_child(int pidfd)
{
    siginfo_t info;
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    while (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR) {}
}

/* The setup record a child wrote before it died, if it wrote one: copied into res, 1. Never waits. */
static int take_child_record(int error_fd, struct sbx_launch_result *res)
{
    struct pollfd pfd = { .fd = error_fd, .events = POLLIN };
    if (poll(&pfd, 1, 0) <= 0) return 0;
    struct sbx_setup_error record;
    ssize_t got;
    do got = read(error_fd, &record, sizeof record); while (got < 0 && errno == EINTR);
    if (got != (ssize_t)sizeof record || record.magic != SBX_ERROR_MAGIC) return 0;
    record.detail[sizeof record.detail - 1] = 0;
    res->error = record;
    return 1;
}

/* PIDFD_GET_MNT_NAMESPACE (linux/pidfd.h, 6.11+); older headers lack it. */
#define SBX_PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)

/* An fd for the child's mount namespace, or -1. The host holds it until the run has been reported, so the
   namespace outlives init: unmounting the sandbox's mounts (and the RCU grace period the kernel waits for
   after it) then happens when the host closes the fd, off the path from init's exit to the host's wait,
   instead of inside init's exit. Taken while the child waits for the release, so it cannot have exited. */
static int pin_mount_namespace(pid_t pid, int pidfd)
{
    int fd = ioctl(pidfd, SBX_PIDFD_GET_MNT_NAMESPACE, 0);
    if (fd >= 0) return fd;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

struct spawner_context {
    const struct sbx_plan *plan;
    int flags;
    void *stack;
    struct child_context *context;
    int *pidfd, *joined, *fallback_error, *error, *stage;
    pid_t pid;
};

/* The spawner: vforked by the launcher thread (CLONE_VM | CLONE_VFORK | CLONE_FILES, all signals blocked), it enters the
   prepared network namespace and the root template's mount namespace, clones the sandbox's child from there with
   CLONE_PARENT, and exits. So the child's mount namespace is a copy of the template's, its root in place at birth, and
   its parent is the launcher thread (its pidfd, its wait, its parent-death signal), whose own namespaces and fs_struct
   never change: a thread that setns()ed into a mount namespace would need an fs_struct of its own, which the threads
   the .NET runtime creates from it would then share. CLONE_FILES: the pidfd lands in the host's table. */
static int spawner_main(void *arg)
{
    struct spawner_context *s = arg;
    long r;
    if (s->plan->net_ns_fd >= 0) {
        r = RAW2(SYS_setns, s->plan->net_ns_fd, CLONE_NEWNET);
        if (r < 0) {
            *s->error = (int)-r;
            *s->stage = SBX_STAGE_NETWORK_NAMESPACE;
            child_exit(0);
        }
    }
    r = RAW2(SYS_setns, s->plan->root_namespace_fd, CLONE_NEWNS);
    if (r < 0) {
        *s->error = (int)-r;
        *s->stage = SBX_STAGE_MOUNT_ROOT;
        child_exit(0);
    }
    s->pid = clone_child(s->plan, s->flags | CLONE_PARENT, s->stack, s->context, s->pidfd, s->joined, s->fallback_error, s->error);
    child_exit(0);
}

/* clone_child from inside the root template's namespace, by way of the spawner; *stage is set if it could not enter a
   namespace (the errno in *error). Returns the child's pid or -1. */
static pid_t spawn_in_root_namespace(const struct sbx_plan *plan, int flags, void *stack, struct child_context *context,
                                     int *pidfd, int *joined, int *fallback_error, int *error, int *stage)
{
    struct spawner_context s = {
        .plan = plan, .flags = flags, .stack = stack, .context = context, .pidfd = pidfd, .joined = joined,
        .fallback_error = fallback_error, .error = error, .stage = stage, .pid = -1,
    };
    /* Exit signal 0: the spawner is waited for with __WALL, and the child it clones with CLONE_PARENT inherits the 0. */
    pid_t spawner = clone(spawner_main, (char *)stack + LAUNCH_STACKS_SIZE, CLONE_VM | CLONE_VFORK | CLONE_FILES, &s);
    if (spawner < 0) {
        *error = errno;
        return -1;
    }
    while (waitpid(spawner, NULL, __WALL) < 0 && errno == EINTR) {}
    return s.pid;
}

int sbx_launch(const struct sbx_plan *plan, struct sbx_launch_result *res)
{
    const char *base = (const char *)plan;
    char **init_argv = NULL, **envp = NULL;
    void *stack = MAP_FAILED;
    int error_pipe[2] = { -1, -1 }, release_pipe[2] = { -1, -1 }, pidfd = -1, status = -1, host_net = -1;
    int mount_ns = -1;
    pid_t pid = -1;

    memset(res, 0, sizeof *res);
    res->pid = -1;
    res->pidfd = -1;
    res->mount_ns_fd = -1;
    if (!plan_is_valid(plan)) {
        result_error(res, SBX_STAGE_PLAN, EINVAL, "malformed plan (magic, version or bounds)");
        return -1;
    }

    const uint32_t *argv_offsets = (const uint32_t *)(base + plan->argv);
    const uint32_t *envp_offsets = (const uint32_t *)(base + plan->envp);
    init_argv = calloc(plan->argc + 2, sizeof *init_argv);
    envp = calloc(plan->envc + 1, sizeof *envp);
    if (!init_argv || !envp) {
        result_error(res, SBX_STAGE_PLAN, ENOMEM, "argv");
        goto out;
    }
    init_argv[0] = (char *)"sandbox-init";
    for (uint32_t i = 0; i < plan->argc; i++) init_argv[i + 1] = (char *)(base + argv_offsets[i]);
    for (uint32_t i = 0; i < plan->envc; i++) envp[i] = (char *)(base + envp_offsets[i]);

    if (pipe2(error_pipe, O_CLOEXEC) < 0 || pipe2(release_pipe, O_CLOEXEC) < 0) {
        result_error(res, SBX_STAGE_CLONE, errno, "pipe2");
        goto out;
    }
    stack = mmap(NULL, LAUNCH_STACKS_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        result_error(res, SBX_STAGE_CLONE, errno, "child stack");
        goto out;
    }

    struct child_context context = {
        .plan = plan,
        .base = base,
        .init_argv = init_argv,
        .envp = envp,
        .error_fd = error_pipe[1],
        .error_read_fd = error_pipe[0],
        .release_fd = release_pipe[0],
        .release_write_fd = release_pipe[1],
    };

    /* A network namespace made ahead of time: this thread enters it for the clone, so the child is
       born in it, and returns to its own straight after. (With a root template's namespace, the spawner does.) */
    if (plan->net_ns_fd >= 0 && plan->root_namespace_fd < 0) {
        host_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (host_net < 0) {
            result_error(res, SBX_STAGE_NETWORK_NAMESPACE, errno, "/proc/thread-self/ns/net");
            goto out;
        }
        if (setns(plan->net_ns_fd, CLONE_NEWNET) < 0) {
            result_error(res, SBX_STAGE_NETWORK_NAMESPACE, errno, "enter the prepared network namespace");
            goto out;
        }
    }

    /* No signal may reach the child before it has reset the host's handlers. */
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    /* A cgroup namespace is entered by the child once it is in its cgroup, so that cgroup is its root. */
    int clone_flags = CLONE_VM | CLONE_PIDFD | (int)(plan->clone_flags & ~(uint64_t)CLONE_NEWCGROUP);
    int clone_errno = 0, joined = 0, fallback_error = 0;
    if (plan->root_namespace_fd >= 0) {
        int spawn_stage = 0;
        pid = spawn_in_root_namespace(plan, clone_flags, stack, &context, &pidfd, &joined, &fallback_error, &clone_errno,
                                      &spawn_stage);
        if (spawn_stage) {
            pthread_sigmask(SIG_SETMASK, &previous, NULL);
            result_error(res, spawn_stage, clone_errno, spawn_stage == SBX_STAGE_NETWORK_NAMESPACE
                         ? "enter the prepared network namespace" : "enter the root template's namespace");
            goto out;
        }
    } else {
        pid = clone_child(plan, clone_flags, stack, &context, &pidfd, &joined, &fallback_error, &clone_errno);
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);

    if (host_net >= 0) {
        int entered = setns(host_net, CLONE_NEWNET);
        int setns_errno = errno;
        close(host_net);
        host_net = -1;
        if (entered < 0) {
            /* The thread is stranded in the sandbox's namespace: fail this launch loudly. */
            result_error(res, SBX_STAGE_NETWORK_NAMESPACE, setns_errno, "return to the host's network namespace");
            if (pid > 0) abandon_child(pidfd);
            goto out;
        }
    }

    close(error_pipe[1]);
    error_pipe[1] = -1;
    close(release_pipe[0]);
    release_pipe[0] = -1;
    if (pid < 0) {
        result_error(res, SBX_STAGE_CLONE, clone_errno,
                     plan->cgroup_fd >= 0 && !fallback_error ? "clone3 into the sandbox cgroup" : "clone");
        goto out;
    }
    if (plan->clone_flags & CLONE_NEWNS)
        mount_ns = pin_mount_namespace(pid, pidfd);

    if (plan->clone_flags & CLONE_NEWUSER) {
        int r = 0, stage = 0;
        if ((plan->flags & SBX_PLAN_DENY_SETGROUPS) && (r = write_proc_file(pid, "setgroups", "deny")) < 0)
            stage = SBX_STAGE_WRITE_SETGROUPS;
        else if (plan->uid_map && (r = write_proc_file(pid, "uid_map", base + plan->uid_map)) < 0)
            stage = SBX_STAGE_WRITE_UID_MAP;
        else if (plan->gid_map && (r = write_proc_file(pid, "gid_map", base + plan->gid_map)) < 0)
            stage = SBX_STAGE_WRITE_GID_MAP;
        if (stage) {
            /* The maps fail on a child that is gone: its own record says why. */
            if (!take_child_record(error_pipe[0], res))
                result_error(res, stage, -r, stage == SBX_STAGE_WRITE_UID_MAP ? base + plan->uid_map
                                             : stage == SBX_STAGE_WRITE_GID_MAP ? base + plan->gid_map : "deny");
            abandon_child(pidfd);
            goto out;
        }
    }

    /* The release. A child that failed before it (joining its cgroups) has left its record and gone. */
    if (write(release_pipe[1], "1", 1) != 1) {
        if (!take_child_record(error_pipe[0], res))
            result_error(res, SBX_STAGE_WAIT_RELEASE, errno, "release");
        abandon_child(pidfd);
        goto out;
    }

    /* EOF on the error pipe: the payload has been exec'd (or the child died, which the host sees
       when it waits). A record: the setup failed at the stage it names. */
    struct pollfd pfd = { .fd = error_pipe[0], .events = POLLIN };
    int timeout = plan->setup_timeout_ms ? (int)plan->setup_timeout_ms : -1;
    for (;;) {
        int n = poll(&pfd, 1, timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            result_error(res, SBX_STAGE_SETUP_TIMEOUT, ETIMEDOUT, "setup did not finish in time");
            abandon_child(pidfd);
            goto out;
        }
        break;
    }
    struct sbx_setup_error record;
    ssize_t got;
    do got = read(error_pipe[0], &record, sizeof record); while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof record && record.magic == SBX_ERROR_MAGIC) {
        record.detail[sizeof record.detail - 1] = 0;
        res->error = record;
        abandon_child(pidfd);
        goto out;
    }
    if (got != 0) {
        result_error(res, SBX_STAGE_CHILD_DIED, got < 0 ? errno : EPROTO, "unreadable setup report");
        abandon_child(pidfd);
        goto out;
    }

    res->pid = pid;
    res->pidfd = pidfd;
    res->mount_ns_fd = mount_ns;
    res->cgroup_join = joined;
    res->cgroup_fallback_error = fallback_error;
    pidfd = -1;
    mount_ns = -1;
    status = 0;

out:
    if (host_net >= 0) {
        if (setns(host_net, CLONE_NEWNET) < 0) { /* entered nothing yet: nothing to undo */ }
        close(host_net);
    }
    if (pidfd >= 0) close(pidfd);
    if (mount_ns >= 0) close(mount_ns);
    if (stack != MAP_FAILED) munmap(stack, LAUNCH_STACKS_SIZE);
    for (int i = 0; i < 2; i++) {
        if (error_pipe[i] >= 0) close(error_pipe[i]);
        if (release_pipe[i] >= 0) close(release_pipe[i]);
    }
    free(init_argv);
    free(envp);
    return status;
}

int sbx_create_network_namespace(int *ns_fd)
{
    *ns_fd = -1;
    int host_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (host_net < 0) return -errno;
    if (unshare(CLONE_NEWNET) < 0) {
        int err = errno;
        close(host_net);
        return -err;
    }
    int err = 0;
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
    else err = (int)-loopback_up();
    if (setns(host_net, CLONE_NEWNET) < 0) {
        /* Stranded in the new namespace: the caller must stop using this thread for the host's work. */
        err = ENOTRECOVERABLE;
    }
    close(host_net);
    if (err) {
        if (fd >= 0) close(fd);
        return -err;
    }
    *ns_fd = fd;
    return 0;
}

/* The child of sbx_create_user_namespace (arg: the pipe's two fds, which the host leaves alone until the child has
   exited): closes its copy of the write end, then waits, all signals blocked, until the host closes its own. */
static int idmap_holder_main(void *arg)
{
    const int *hold = arg;
    char byte;
    long r;
    RAW1(SYS_close, hold[1]);
    do r = RAW3(SYS_read, hold[0], &byte, 1); while (r == -EINTR);
    child_exit(0);
}

int sbx_create_user_namespace(const char *uid_map, const char *gid_map, int *ns_fd)
{
    enum { STACK = 16 * 1024 };
    int hold[2], err = 0, fd = -1;
    char path[64];
    *ns_fd = -1;
    if (pipe2(hold, O_CLOEXEC) < 0) return -errno;
    void *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        err = errno;
        close(hold[0]);
        close(hold[1]);
        return -err;
    }
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    /* CLONE_VM: no copy of the host's address space; the child only reads the pipe and exits. */
    int pair[2] = { hold[0], hold[1] }; /* the child's copy of the numbers: hold[1] changes below */
    pid_t pid = clone(idmap_holder_main, (char *)stack + STACK, CLONE_VM | CLONE_NEWUSER, pair);
    if (pid < 0) err = errno;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (pid > 0) {
        if ((err = -write_proc_file(pid, "uid_map", uid_map)) == 0 && (err = -write_proc_file(pid, "gid_map", gid_map)) == 0) {
            snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) err = errno;
        }
        close(hold[1]);
        hold[1] = -1;
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
    }
    if (hold[1] >= 0) close(hold[1]);
    close(hold[0]);
    munmap(stack, STACK);
    if (err) {
        if (fd >= 0) close(fd);
        return -err;
    }
    *ns_fd = fd;
    return 0;
}

/* ---------------------------------------------------------------- root templates (host side, made once per root) */

/* Clones a short-lived helper child (exit signal 0: waited for with __WALL) onto the top of a CHILD_STACK_SIZE stack,
   with every signal blocked across the clone so that none of the host's handlers can run on the shared memory. The
   pid, or -1 with *error set. */
static pid_t clone_helper(int (*main)(void *), void *stack, int flags, void *arg, int *error)
{
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = clone(main, (char *)stack + CHILD_STACK_SIZE, flags, arg);
    *error = pid < 0 ? errno : 0;
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return pid;
}

/* Reads what a short-lived child left on its error pipe once its end is closed: 1 with *out filled when it was a setup
   record, 0 at EOF (no record: it got through), -1 with errno set when it was something else (EPROTO). */
static int read_setup_record(int fd, struct sbx_setup_error *out)
{
    struct sbx_setup_error record;
    ssize_t got;
    do got = read(fd, &record, sizeof record); while (got < 0 && errno == EINTR);
    if (got == (ssize_t)sizeof record && record.magic == SBX_ERROR_MAGIC) {
        record.detail[sizeof record.detail - 1] = 0;
        *out = record;
        return 1;
    }
    if (got == 0) return 0;
    if (got > 0) errno = EPROTO;
    return -1;
}

struct template_context {
    struct child_context c;
    int send_fd;  /* a datagram socket: the finished tree's fd goes to the host over it (SCM_RIGHTS) */
};

/* Makes the superblock of the tmpfs mounted at mnt read-only: no mount of it, however remounted, can write it. */
static void template_seal(const struct child_context *c, int index, long mnt)
{
    long pick = RAW3(SYS_fspick, mnt, "", FSPICK_EMPTY_PATH | FSPICK_CLOEXEC), r;
    if (pick < 0) child_fail(c, SBX_STAGE_ROOT_READONLY, pick, index, "fspick");
    r = RAW5(SYS_fsconfig, pick, FSCONFIG_SET_FLAG, "ro", 0, 0);
    if (r >= 0) r = RAW5(SYS_fsconfig, pick, FSCONFIG_CMD_RECONFIGURE, 0, 0, 0);
    if (r < 0) child_fail(c, SBX_STAGE_ROOT_READONLY, r, index, "read-only superblock");
    RAW1(SYS_close, pick);
}

static int template_main(void *arg)
{
    const struct template_context *t = arg;
    const struct child_context *c = &t->c;
    const struct sbx_plan *p = c->plan;
    const struct sbx_mount_op *ops = (const struct sbx_mount_op *)(c->base + p->mounts);
    int32_t tmpfs_mounts[SBX_MAX_MOUNT_OPS];
    uint32_t tmpfs_count = 0;
    long r;
    char byte;

    if (c->release_fd >= 0) {
        /* A rootless host's builder, in a user namespace of its own: it waits for its id maps (its files need an owner). */
        RAW1(SYS_close, c->release_write_fd);
        do r = RAW3(SYS_read, c->release_fd, &byte, 1); while (r == -EINTR);
        if (r != 1) child_exit(127);
    }
    long root = new_mount(c, SBX_STAGE_MOUNT_ROOT, -1, "tmpfs", plan_string(c, p->root_options),
                          p->template_root_flags ? mount_attr_flags(p->template_root_flags) : MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    for (uint32_t i = 0; i < p->mount_count; i++) {
        const struct sbx_mount_op *op = &ops[i];
        /* Flags change only on attached mounts (mount_setattr): remounts are the sandbox's, on its copy. */
        if (op->kind == SBX_OP_PROC || op->kind == SBX_OP_DEVPTS || op->kind == SBX_OP_OVERLAY || op->kind == SBX_OP_REMOUNT
            || op->kind == SBX_OP_ATTACH)
            child_fail(c, SBX_STAGE_PLAN, -EINVAL, (int)i, "a step each sandbox takes itself, in a root template");
        if (op->kind == SBX_OP_TMPFS) {
            /* mount(2) cannot mount beneath a detached tree: the new API can. */
            const char *target = plan_string(c, op->target);
            long fd = child_open_beneath((int)root, target, O_PATH | O_DIRECTORY);
            if (fd < 0) child_fail(c, SBX_STAGE_RESOLVE_TARGET, fd, (int)i, target);
            long mnt = new_mount(c, SBX_STAGE_TMPFS, (int)i, "tmpfs", plan_string(c, op->data), mount_attr_flags(op->flags));
            r = RAW5(SYS_move_mount, mnt, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
            if (r < 0) child_fail(c, SBX_STAGE_TMPFS, r, (int)i, target);
            RAW1(SYS_close, fd);
            tmpfs_mounts[tmpfs_count++] = (int32_t)mnt; /* sealed once everything is in it */
            continue;
        }
        long source = -1;
        if (op->kind == SBX_OP_BIND) {
            source = child_open_source(plan_string(c, op->source));
            if (source == -ENOENT && (op->flags & SBX_MNT_OPTIONAL)) continue;
            if (source < 0) child_fail(c, SBX_STAGE_OPEN_BIND_SOURCE, source, (int)i, plan_string(c, op->source));
        }
        child_run_mount_op(c, (int)root, (int)i, op, (int)source);
        if (source >= 0) RAW1(SYS_close, source);
    }

    for (uint32_t i = 0; i < tmpfs_count; i++) template_seal(c, -1, tmpfs_mounts[i]);
    template_seal(c, -1, root);
    struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
    r = RAW5(SYS_mount_setattr, root, "", AT_EMPTY_PATH, &attr, sizeof attr);
    if (r < 0) child_fail(c, SBX_STAGE_ROOT_READONLY, r, -1, "/");

    /* The tree to the host; this copy of it closes when the child exits. */
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    for (size_t i = 0; i < sizeof control; i++) ((char *)&control)[i] = 0;
    byte = 'T';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    int tree = (int)root;
    for (size_t i = 0; i < sizeof tree; i++) ((char *)CMSG_DATA(cm))[i] = ((char *)&tree)[i];
    r = RAW3(SYS_sendmsg, t->send_fd, &msg, 0);
    if (r < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, r, -1, "hand the root template to the host");
    child_exit(0);
}

int sbx_build_root_template(const struct sbx_plan *plan, int *tree_fd, struct sbx_setup_error *error)
{
    int error_pipe[2] = { -1, -1 }, pair[2] = { -1, -1 }, release[2] = { -1, -1 }, status = -1;
    void *stack = MAP_FAILED;
    struct sbx_launch_result res;
    memset(&res, 0, sizeof res);
    *tree_fd = -1;
    /* With id maps in the plan (a rootless host) the builder gets a user namespace, and a mount namespace, of its own. */
    int own_user_namespace = plan_is_valid(plan) && plan->uid_map && plan->gid_map;

    if (!plan_is_valid(plan) || plan->root_template_fd >= 0 || !plan->root_options) {
        result_error(&res, SBX_STAGE_PLAN, EINVAL, "malformed root template plan");
        goto out;
    }
    if (pipe2(error_pipe, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pair) < 0
        || (own_user_namespace && pipe2(release, O_CLOEXEC) < 0)) {
        result_error(&res, SBX_STAGE_CLONE, errno, "pipe2");
        goto out;
    }
    stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        result_error(&res, SBX_STAGE_CLONE, errno, "child stack");
        goto out;
    }
    struct template_context context = {
        .c = { .plan = plan, .base = (const char *)plan, .error_fd = error_pipe[1], .error_read_fd = -1,
               .release_fd = release[0], .release_write_fd = release[1] },
        .send_fd = pair[1],
    };
    /* CLONE_VM without CLONE_FILES: the child's fds are its own and close when it exits, whatever step it fails at. */
    int clone_errno;
    pid_t pid = clone_helper(template_main, stack, CLONE_VM | (own_user_namespace ? CLONE_NEWUSER | CLONE_NEWNS : 0),
                             &context, &clone_errno);
    if (pid < 0) {
        result_error(&res, SBX_STAGE_CLONE, clone_errno, "clone");
        goto out;
    }
    if (own_user_namespace) {
        const char *base = (const char *)plan;
        int r = 0, stage = 0;
        if ((plan->flags & SBX_PLAN_DENY_SETGROUPS) && (r = write_proc_file(pid, "setgroups", "deny")) < 0)
            stage = SBX_STAGE_WRITE_SETGROUPS;
        else if ((r = write_proc_file(pid, "uid_map", base + plan->uid_map)) < 0)
            stage = SBX_STAGE_WRITE_UID_MAP;
        else if ((r = write_proc_file(pid, "gid_map", base + plan->gid_map)) < 0)
            stage = SBX_STAGE_WRITE_GID_MAP;
        /* The release, or (closing it unwritten) the builder's end. */
        if (!stage && write(release[1], "1", 1) != 1) { r = -errno; stage = SBX_STAGE_WAIT_RELEASE; }
        close(release[1]);
        release[1] = -1;
        if (stage) {
            while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
            result_error(&res, stage, -r, "the root template builder's user namespace");
            goto out;
        }
    }
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
    close(error_pipe[1]);
    error_pipe[1] = -1;

    if (read_setup_record(error_pipe[0], &res.error) == 1) goto out;
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space, .msg_controllen = sizeof control.space };
    ssize_t n = recvmsg(pair[0], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    struct cmsghdr *cm = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int))) {
        result_error(&res, SBX_STAGE_CHILD_DIED, n < 0 ? errno : EPROTO, "the root template's builder ended without a tree");
        goto out;
    }
    memcpy(tree_fd, CMSG_DATA(cm), sizeof(int));
    status = 0;

out:
    if (status != 0) *error = res.error;
    for (int i = 0; i < 2; i++) {
        if (error_pipe[i] >= 0) close(error_pipe[i]);
        if (pair[i] >= 0) close(pair[i]);
        if (release[i] >= 0) close(release[i]);
    }
    if (stack != MAP_FAILED) munmap(stack, CHILD_STACK_SIZE);
    return status;
}

struct root_namespace_context {
    struct child_context c;
    int tree_fd;
    const char *staging;
    int hold_read, hold_write;
};

/* The child of sbx_create_root_namespace, in new mount and pid namespaces: puts a copy of the template at staging,
   pivots into it, mounts a proc of its own (empty once it exits) on the template's /proc, reports success by closing
   its end of the error pipe, and waits, all signals blocked, until the host has taken the namespace. */
static int root_namespace_main(void *arg)
{
    const struct root_namespace_context *n = arg;
    const struct child_context *c = &n->c;
    char byte;
    long r;
    RAW1(SYS_close, n->hold_write);
    r = RAW5(SYS_mount, 0, "/", 0, MS_REC | MS_PRIVATE, 0);
    if (r < 0) child_fail(c, SBX_STAGE_MOUNT_PRIVATE, r, -1, "/");
    long tree = RAW3(SYS_open_tree, n->tree_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, tree, -1, "copy of the root template");
    r = RAW5(SYS_move_mount, tree, "", AT_FDCWD, n->staging, MOVE_MOUNT_F_EMPTY_PATH);
    if (r < 0) child_fail(c, SBX_STAGE_MOUNT_ROOT, r, -1, n->staging);
    r = RAW1(SYS_chdir, n->staging);
    if (r >= 0) r = RAW2(SYS_pivot_root, ".", ".");
    if (r >= 0) r = RAW2(SYS_umount2, ".", MNT_DETACH);
    if (r >= 0) r = RAW1(SYS_chdir, "/");
    if (r < 0) child_fail(c, SBX_STAGE_PIVOT_ROOT, r, -1, n->staging);
    r = RAW5(SYS_mount, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0);
    if (r < 0) child_fail(c, SBX_STAGE_PROC, r, -1, "/proc");
    RAW1(SYS_close, c->error_fd);
    do r = RAW3(SYS_read, n->hold_read, &byte, 1); while (r == -EINTR);
    child_exit(0);
}

int sbx_create_root_namespace(int tree_fd, const char *staging, int *ns_fd, struct sbx_setup_error *error)
{
    int error_pipe[2] = { -1, -1 }, hold[2] = { -1, -1 }, status = -1;
    void *stack = MAP_FAILED;
    pid_t pid = -1;
    struct sbx_launch_result res;
    memset(&res, 0, sizeof res);
    *ns_fd = -1;
    if (pipe2(error_pipe, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) {
        result_error(&res, SBX_STAGE_CLONE, errno, "pipe2");
        goto out;
    }
    stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        result_error(&res, SBX_STAGE_CLONE, errno, "child stack");
        goto out;
    }
    struct root_namespace_context context = {
        .c = { .error_fd = error_pipe[1], .error_read_fd = -1, .release_fd = -1, .release_write_fd = -1 },
        .tree_fd = tree_fd,
        .staging = staging,
        .hold_read = hold[0],
        .hold_write = hold[1],
    };
    int clone_errno;
    pid = clone_helper(root_namespace_main, stack, CLONE_VM | CLONE_NEWNS | CLONE_NEWPID, &context, &clone_errno);
    if (pid < 0) {
        result_error(&res, SBX_STAGE_CLONE, clone_errno, "clone for the root template's namespace");
        goto out;
    }
    close(error_pipe[1]);
    error_pipe[1] = -1;

    /* A record: it failed and is gone. EOF: its namespace is ready, and it waits for the hold to close. */
    int outcome = read_setup_record(error_pipe[0], &res.error);
    if (outcome == 1) goto out;
    if (outcome < 0) {
        result_error(&res, SBX_STAGE_CHILD_DIED, errno, "the root namespace's builder");
        goto out;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    *ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*ns_fd < 0) {
        result_error(&res, SBX_STAGE_MOUNT_ROOT, errno, path);
        goto out;
    }
    status = 0;

out:
    if (hold[1] >= 0) close(hold[1]); /* lets the child go */
    if (pid > 0) while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {}
    if (status != 0) *error = res.error;
    for (int i = 0; i < 2; i++) {
        if (error_pipe[i] >= 0) close(error_pipe[i]);
    }
    if (hold[0] >= 0) close(hold[0]);
    if (stack != MAP_FAILED) munmap(stack, CHILD_STACK_SIZE);
    return status;
}

uint32_t sbx_layout_size(uint32_t record)
{
    switch (record) {
    case 1: return sizeof(struct sbx_plan);
    case 2: return sizeof(struct sbx_mount_op);
    case 3: return sizeof(struct sbx_rlimit);
    case 4: return sizeof(struct sbx_setup_error);
    case 5: return sizeof(struct sbx_exit_report);
    case 6: return sizeof(struct sbx_launch_result);
    default: return 0;
    }
}
