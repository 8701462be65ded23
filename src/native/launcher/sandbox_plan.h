/*
 * The launch plan: the one contract between the .NET host and the native launcher.
 *
 * The host (C#, src/Sandbox/Launch/PlanLayout.cs) writes a plan into one block of unmanaged memory:
 * a fixed header, then arrays of records, then NUL-terminated strings. Every reference inside the
 * plan is a byte offset from the start of the block (0 means "none"). The C# side defines the same
 * layout; tests/Sandbox.Tests compiles a program against this header and checks that both agree.
 *
 * Nothing here allocates or resolves anything: the host has decided everything, the launcher only
 * carries it out, in order, and reports the first failure as (stage, errno, op index, detail).
 */
#ifndef SANDBOX_PLAN_H
#define SANDBOX_PLAN_H

#include <stdint.h>

#define SBX_PLAN_MAGIC 0x50584253u   /* "SBXP" */
#define SBX_PLAN_VERSION 11u
#define SBX_ERROR_MAGIC 0x45584253u  /* "SBXE" */
#define SBX_EXIT_MAGIC 0x58584253u   /* "SBXX" */

#define SBX_MAX_MOUNT_OPS 512u
#define SBX_MAX_RLIMITS 16u
#define SBX_MAX_CGROUP_FILES 16u
#define SBX_DETAIL_SIZE 240

/* Fds the sandbox's init receives, by convention. */
#define SBX_INIT_ERROR_FD 3   /* setup errors (exec of the payload) go here; EOF means the payload runs */
#define SBX_INIT_REPORT_FD 4  /* the payload's wait status and rusage, written once by init */
#define SBX_INIT_SECCOMP_FD 5 /* the seccomp program (struct sock_filter[]) to load before exec; absent = none */
#define SBX_INIT_NOTIFY_FD 6  /* where init sends the seccomp listener fd (user notification); absent = none */
#define SBX_MAX_SECCOMP_INSTRUCTIONS 4096u

/* sbx_plan.flags */
enum sbx_plan_flags {
    SBX_PLAN_DENY_SETGROUPS = 1u << 0,  /* write "deny" to /proc/PID/setgroups (required unprivileged) */
    SBX_PLAN_CLEAR_GROUPS = 1u << 1,    /* setgroups(0, NULL) before dropping to uid/gid */
    SBX_PLAN_LOOPBACK_UP = 1u << 2,     /* bring `lo` up in the new network namespace */
    SBX_PLAN_ROOT_READONLY = 1u << 3,   /* remount the new root read-only once populated */
    SBX_PLAN_DROP_CAPS = 1u << 4,       /* empty bounding, ambient, effective, permitted, inheritable */
    SBX_PLAN_NO_NEW_PRIVS = 1u << 5,    /* PR_SET_NO_NEW_PRIVS */
    SBX_PLAN_NEW_ROOT = 1u << 6,        /* build a tmpfs root at root_staging and pivot_root into it */
};

/* sbx_mount_op.kind */
enum sbx_mount_kind {
    SBX_OP_MKDIR = 1,       /* target, mode */
    SBX_OP_MKFILE = 2,      /* target, mode: an empty file (a bind target) */
    SBX_OP_WRITE_FILE = 3,  /* target, data/data_len, mode */
    SBX_OP_SYMLINK = 4,     /* source = link text, target = link path */
    SBX_OP_BIND = 5,        /* source = host path, target, flags */
    SBX_OP_TMPFS = 6,       /* target, data = mount options, flags */
    SBX_OP_PROC = 7,        /* target */
    SBX_OP_DEVPTS = 8,      /* target, data = mount options */
    SBX_OP_REMOUNT = 9,     /* target: apply flags (read-only, nosuid...) to the mount at target */
    SBX_OP_OVERLAY = 10,    /* source = lower directories (host paths, top first) joined with ':', target,
                               data = options of the fresh tmpfs that holds upperdir and workdir, or with
                               SBX_MNT_DISK_UPPER the host's "UPPER:WORK" directories (kept after the run), flags;
                               target "" is the new root itself: later ops and pivot_root use the overlay;
                               layer_fds: one detached, idmapped mount per lower directory (or -1), which the
                               child mounts over that directory, in its own mount namespace, before the overlay
                               takes it (by that fd, FSCONFIG_SET_FD): root's layers seen through the sandbox's id maps */
    SBX_OP_ATTACH = 11,     /* target, layer_fds = one fd: a copy of that detached tree (a root template of a subtree,
                               sbx_build_root_template) is mounted at target */
};

/* sbx_mount_op.flags */
enum sbx_mount_flags {
    SBX_MNT_READONLY = 1u << 0,
    SBX_MNT_RECURSIVE = 1u << 1,
    SBX_MNT_NOSUID = 1u << 2,
    SBX_MNT_NODEV = 1u << 3,
    SBX_MNT_NOEXEC = 1u << 4,
    SBX_MNT_OPTIONAL = 1u << 5,  /* a missing bind source skips the op instead of failing */
    SBX_MNT_USERXATTR = 1u << 6, /* overlay: read user.overlay.* xattrs (layers unpacked rootless) */
    SBX_MNT_DISK_UPPER = 1u << 7, /* overlay: data names host upper and work directories instead of a tmpfs */
};

/* Where a setup failed: reported to the host with the errno. Keep in step with SetupStage.cs. */
enum sbx_stage {
    SBX_STAGE_PLAN = 1,
    SBX_STAGE_CLONE = 2,
    SBX_STAGE_WRITE_SETGROUPS = 3,
    SBX_STAGE_WRITE_UID_MAP = 4,
    SBX_STAGE_WRITE_GID_MAP = 5,
    SBX_STAGE_WAIT_RELEASE = 6,
    SBX_STAGE_SIGNALS = 7,
    SBX_STAGE_MOUNT_PRIVATE = 8,
    SBX_STAGE_OPEN_BIND_SOURCE = 9,
    SBX_STAGE_MOUNT_ROOT = 10,
    SBX_STAGE_RESOLVE_TARGET = 11,
    SBX_STAGE_MKDIR = 12,
    SBX_STAGE_MKFILE = 13,
    SBX_STAGE_WRITE_FILE = 14,
    SBX_STAGE_SYMLINK = 15,
    SBX_STAGE_BIND = 16,
    SBX_STAGE_TMPFS = 17,
    SBX_STAGE_PROC = 18,
    SBX_STAGE_DEVPTS = 19,
    SBX_STAGE_REMOUNT = 20,
    SBX_STAGE_PIVOT_ROOT = 21,
    SBX_STAGE_ROOT_READONLY = 22,
    SBX_STAGE_HOSTNAME = 23,
    SBX_STAGE_LOOPBACK = 24,
    SBX_STAGE_RLIMIT = 25,
    SBX_STAGE_SETGROUPS = 26,
    SBX_STAGE_SETGID = 27,
    SBX_STAGE_SETUID = 28,
    SBX_STAGE_CAPABILITIES = 29,
    SBX_STAGE_NO_NEW_PRIVS = 30,
    SBX_STAGE_PARENT_DEATH = 31,
    SBX_STAGE_CHDIR = 32,
    SBX_STAGE_STDIO = 33,
    SBX_STAGE_EXEC_INIT = 34,
    SBX_STAGE_EXEC_PAYLOAD = 35,
    SBX_STAGE_SETUP_TIMEOUT = 36,
    SBX_STAGE_CHILD_DIED = 37,
    SBX_STAGE_INIT = 38,
    SBX_STAGE_JOIN_CGROUP = 39,
    SBX_STAGE_CGROUP_NAMESPACE = 40,
    SBX_STAGE_NETWORK_NAMESPACE = 41,
    SBX_STAGE_SECCOMP = 42,
    SBX_STAGE_OVERLAY = 43,
};

struct sbx_plan {
    uint32_t magic;             /* SBX_PLAN_MAGIC */
    uint32_t version;           /* SBX_PLAN_VERSION */
    uint32_t total_size;        /* bytes in the whole block */
    uint32_t flags;             /* sbx_plan_flags */
    uint64_t clone_flags;       /* CLONE_NEW* namespaces to create */
    int32_t stdin_fd;           /* host fds handed to the payload as 0, 1, 2; -1 = /dev/null */
    int32_t stdout_fd;
    int32_t stderr_fd;
    int32_t report_fd;          /* write end of the exit-report pipe, becomes init's fd 4 */
    int32_t init_fd;            /* the sandbox-init executable, opened by the host */
    uint32_t uid;               /* the payload's ids inside the sandbox */
    uint32_t gid;
    uint32_t setup_timeout_ms;  /* the host gives up on a setup that takes longer */
    uint32_t uid_map;           /* string: uid_map contents written by the host, 0 = none */
    uint32_t gid_map;           /* string: gid_map contents */
    uint32_t hostname;          /* string, 0 = keep */
    uint32_t root_staging;      /* string: directory the new root tmpfs is mounted on */
    uint32_t root_options;      /* string: tmpfs options of the new root */
    uint32_t cwd;               /* string: working directory inside the sandbox */
    uint32_t argv;              /* offset of argc string offsets (uint32 each) */
    uint32_t argc;
    uint32_t envp;              /* offset of envc string offsets */
    uint32_t envc;
    uint32_t mounts;            /* offset of mount_count sbx_mount_op records */
    uint32_t mount_count;
    uint32_t rlimits;           /* offset of rlimit_count sbx_rlimit records */
    uint32_t rlimit_count;
    uint32_t cgroup_procs;      /* offset of cgroup_procs_count string offsets: cgroup.procs files the child */
    uint32_t cgroup_procs_count;/* writes itself into before the release (one per v1 hierarchy) */
    int32_t net_ns_fd;          /* a network namespace made ahead of time (sbx_create_network_namespace) */
                                /* the sandbox enters instead of creating one; -1 = none */
    int32_t seccomp_fd;         /* a sealed memfd holding the seccomp program (struct sock_filter[]), which */
                                /* init receives as fd 5 and loads in the payload's process; -1 = none */
    int32_t notify_fd;          /* a unix socket to the host's seccomp supervisor, init's fd 6: the filter is */
                                /* loaded with a listener, which init sends there (SCM_RIGHTS); -1 = none */
    int32_t cgroup_fd;          /* cgroup v2: the sandbox cgroup's directory, opened by the host; the child is */
                                /* cloned into it (clone3 CLONE_INTO_CGROUP) and cgroup_procs is only the */
                                /* fallback where clone3 or CLONE_INTO_CGROUP is missing; -1 = none */
    uint32_t cgroup_procs_fds;  /* offset of cgroup_procs_count int32 fds, 0 = none: each cgroup.procs of */
                                /* cgroup_procs opened for writing by the host ahead of the launch (-1: open */
                                /* the path), so the child's join is one write per hierarchy */
    int32_t root_template_fd;   /* a root template (sbx_build_root_template): with SBX_PLAN_NEW_ROOT the child */
                                /* mounts a copy of it at root_staging instead of a fresh tmpfs, and mounts then */
                                /* hold only what each sandbox gets fresh (/proc, devpts, writable tmpfs); -1 = none */
    int32_t root_namespace_fd;  /* a mount namespace whose root is a root template (sbx_create_root_namespace): the */
                                /* launcher clones the child from inside it, so the child's root is in place at birth: */
                                /* no staging, no pivot_root, no unmount of the host's tree; mounts then hold only */
                                /* fresh steps that name no host path (no binds, no overlays); -1 = none */
    uint32_t template_root_flags; /* sbx_build_root_template: the mount flags (sbx_mount_flags) of the template's */
                                  /* root tmpfs; 0 = nosuid, nodev */
};

struct sbx_mount_op {
    uint32_t kind;      /* sbx_mount_kind */
    uint32_t flags;     /* sbx_mount_flags */
    uint32_t source;    /* string offset */
    uint32_t target;    /* string offset: path relative to the new root, no leading '/' */
    uint32_t data;      /* offset of data bytes (options or file contents) */
    uint32_t data_len;
    uint32_t mode;
    uint32_t layer_fds; /* overlay: offset of int32 fds, one per lower directory in source (-1 = the
                           directory itself); attach: offset of its one int32 fd; 0 = none */
};

struct sbx_rlimit {
    uint32_t resource;  /* RLIMIT_* */
    uint32_t reserved;
    uint64_t soft;
    uint64_t hard;
};

/* What the launcher or init reports when a setup step fails. Fits in one atomic pipe write. */
struct sbx_setup_error {
    uint32_t magic;     /* SBX_ERROR_MAGIC */
    int32_t stage;      /* sbx_stage */
    int32_t error;      /* errno */
    int32_t op_index;   /* index of the mount op, -1 if none */
    char detail[SBX_DETAIL_SIZE];  /* the path or value involved, NUL-terminated */
};

/* What init writes once the payload has exited. */
struct sbx_exit_report {
    uint32_t magic;     /* SBX_EXIT_MAGIC */
    int32_t wait_status;
    int64_t user_usec;  /* rusage of every process init reaped */
    int64_t system_usec;
    int64_t max_rss_kib;
};

/* sbx_launch_result.cgroup_join: how the child came to be in its cgroup (0: it has none). */
enum sbx_cgroup_join {
    SBX_JOIN_CLONE_INTO_CGROUP = 1, /* born in it: clone3 with CLONE_INTO_CGROUP and the plan's cgroup_fd */
    SBX_JOIN_CGROUP_PROCS = 2,      /* the child wrote itself into each of the plan's cgroup_procs before the release */
};

/* Filled by sbx_launch. */
struct sbx_launch_result {
    int32_t pid;        /* host pid of the sandbox's init, -1 if the launch failed */
    int32_t pidfd;      /* pidfd of the same process, -1 if the launch failed */
    struct sbx_setup_error error;  /* magic == 0 when the launch succeeded */
    int32_t mount_ns_fd;/* the sandbox's mount namespace, held by the host until the run is reported, or -1 */
    int32_t cgroup_join;           /* sbx_cgroup_join, 0 = no cgroup */
    int32_t cgroup_fallback_error; /* the errno of clone3(CLONE_INTO_CGROUP) when it was tried and the */
                                   /* launcher fell back to cgroup_procs (ENOSYS, E2BIG, EINVAL); 0 otherwise */
    int32_t reserved;
};

#define SBX_EXPORT __attribute__((visibility("default")))

/* Runs the plan: returns 0 when the payload has been exec'd, -1 with result->error filled otherwise. */
SBX_EXPORT int sbx_launch(const struct sbx_plan *plan, struct sbx_launch_result *result);

/* Makes a new network namespace with `lo` up, ahead of a launch, and returns an fd for it in *ns_fd
   (close-on-exec). The calling thread enters the new namespace and returns to its own before this
   returns. 0 on success, -errno otherwise (EPERM when the caller lacks CAP_SYS_ADMIN). */
SBX_EXPORT int sbx_create_network_namespace(int *ns_fd);

/* Makes a user namespace with the given uid_map and gid_map contents (root writes them: no setgroups deny) and
   returns an fd for it in *ns_fd (close-on-exec): what mount_setattr(MOUNT_ATTR_IDMAP) takes. A short-lived
   child is cloned into the new namespace and ends before this returns. 0 on success, -errno otherwise. */
SBX_EXPORT int sbx_create_user_namespace(const char *uid_map, const char *gid_map, int *ns_fd);

/* Builds a root template: a detached tmpfs (root_options) holding the result of the plan's mounts, which may not
   include proc, devpts or overlays (they belong to one sandbox), then made read-only down to each tmpfs's superblock,
   so that no copy of it can be written, whatever capabilities a sandbox holds over its own mounts. Sources are
   opened in the caller's view. A short-lived child (CLONE_VM, all signals blocked) runs the same steps a launch's
   child runs and passes the tree back. 0 and the tree's fd (close-on-exec) in *tree_fd; -1 with *error filled
   (stage, errno, op index, detail) otherwise. Linux >= 6.15: mounts attached beneath a detached mount. */
SBX_EXPORT int sbx_build_root_template(const struct sbx_plan *plan, int *tree_fd, struct sbx_setup_error *error);

/* Makes a mount namespace whose root is a copy of the root template tree_fd (attached at staging, then pivoted into),
   with a /proc of an empty pid namespace mounted on the template's /proc: a user namespace may mount its own proc only
   where one is fully visible, and this one shows no process. A short-lived child (CLONE_VM, new mount and pid
   namespaces) does it; 0 and the namespace's fd (close-on-exec) in *ns_fd, or -1 with *error filled in. */
SBX_EXPORT int sbx_create_root_namespace(int tree_fd, const char *staging, int *ns_fd, struct sbx_setup_error *error);

/* Layout checks for the host: the sizes of the records above, by record number. */
SBX_EXPORT uint32_t sbx_layout_size(uint32_t record);

#endif
