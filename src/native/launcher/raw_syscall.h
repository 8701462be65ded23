/*
 * Raw system calls for the launcher's child and for sandbox-init (which has no libc at all).
 *
 * The child is cloned with CLONE_VM: it shares the host's memory and the cloning thread's TLS, so it
 * must not touch errno or any libc state (glibc's set*id wrappers even signal every host thread).
 * These wrappers issue the instruction directly and return -errno on failure.
 */
#ifndef SANDBOX_RAW_SYSCALL_H
#define SANDBOX_RAW_SYSCALL_H

#include <sys/syscall.h>

static inline long raw_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
#else
#error "the launcher supports x86_64 and aarch64"
#endif
}

/*
 * clone(2) whose child starts on its own stack, at stack_top (16-byte aligned), runs fn(arg) and exits
 * with what fn returns. Returns the child's pid to the parent, or -errno. This is what a CLONE_VM child
 * needs (sandbox-init spawns its payload vfork-style with it): it never runs on, or returns into, its
 * parent's stack. Only flags, the stack and SIGCHLD-style exit signals: no tid pointers, no TLS.
 *
 * After the system call the child has the parent's registers except the return value (and, on x86_64,
 * rcx and r11), so fn and arg are pinned to registers the call leaves alone.
 */
static inline long raw_clone_run(unsigned long flags, void *stack_top, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
    register long r10 __asm__("r10") = 0; /* child_tid */
    register long r8 __asm__("r8") = 0;   /* tls */
    register int (*r9)(void *) __asm__("r9") = fn;
    register void *r12 __asm__("r12") = arg;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xor %%ebp, %%ebp\n\t" /* the child: the outermost frame of its stack */
                     "mov %%r12, %%rdi\n\t"
                     "call *%%r9\n\t"
                     "mov %%eax, %%edi\n\t"
                     "mov %[exit], %%eax\n\t"
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "=a"(ret)
                     : "a"((long)SYS_clone), "D"(flags), "S"(stack_top), "d"(0L), "r"(r10), "r"(r8), "r"(r9),
                       "r"(r12), [exit] "i"(SYS_exit)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = SYS_clone;
    register long x0 __asm__("x0") = (long)flags;
    register void *x1 __asm__("x1") = stack_top;
    register long x2 __asm__("x2") = 0; /* parent_tid */
    register long x3 __asm__("x3") = 0; /* tls */
    register long x4 __asm__("x4") = 0; /* child_tid */
    register int (*x9)(void *) __asm__("x9") = fn;
    register void *x10 __asm__("x10") = arg;
    __asm__ volatile("svc 0\n\t"
                     "cbnz x0, 1f\n\t"
                     "mov x29, #0\n\t" /* the child: the outermost frame of its stack */
                     "mov x30, #0\n\t"
                     "mov x0, x10\n\t"
                     "blr x9\n\t"
                     "mov x8, %[exit]\n\t"
                     "svc 0\n\t"
                     "udf #0\n"
                     "1:"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x9), "r"(x10), [exit] "i"(SYS_exit)
                     : "memory");
    return x0;
#else
#error "the launcher supports x86_64 and aarch64"
#endif
}

#ifndef SYS_clone3
#define SYS_clone3 435 /* the same on x86_64 and aarch64 (the unified table) */
#endif

/*
 * clone3(2) whose child, like raw_clone_run's, runs fn(arg) on its own stack and exits with what fn returns.
 * args points at a struct clone_args (of size bytes) that the caller filled in: clone3 takes the stack's
 * lowest address and its size, and the kernel itself starts the child at stack + stack_size (which must be
 * 16-byte aligned). Returns the child's pid to the parent, or -errno, in which case no child exists.
 *
 * The child leaves the system call with the parent's registers except the return value (and, on x86_64, rcx
 * and r11), on its new, empty stack: fn and arg are pinned to registers the call preserves, the frame pointer
 * is zeroed (the outermost frame) and nothing after the system call touches the parent's stack, whose
 * frames the child must never return into. glibc has no clone3 wrapper to do this (it keeps its own private).
 */
static inline long raw_clone3_run(void *args, unsigned long size, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
    register int (*r9)(void *) __asm__("r9") = fn;
    register void *r12 __asm__("r12") = arg;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"               /* the parent (pid > 0) or a failure (-errno) */
                     "xor %%ebp, %%ebp\n\t"     /* the child: the outermost frame of its stack */
                     "and $-16, %%rsp\n\t"      /* the psABI's alignment at a call, whatever the caller gave */
                     "mov %%r12, %%rdi\n\t"
                     "call *%%r9\n\t"
                     "mov %%eax, %%edi\n\t"     /* fn's result is the exit status */
                     "mov %[exit], %%eax\n\t"
                     "syscall\n\t"
                     "hlt\n"                    /* not reached: exit does not return */
                     "1:"
                     : "=a"(ret)
                     : "a"((long)SYS_clone3), "D"(args), "S"(size), "r"(r9), "r"(r12), [exit] "i"(SYS_exit)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = SYS_clone3;
    register long x0 __asm__("x0") = (long)args;
    register unsigned long x1 __asm__("x1") = size;
    register int (*x9)(void *) __asm__("x9") = fn;
    register void *x10 __asm__("x10") = arg;
    __asm__ volatile("svc 0\n\t"
                     "cbnz x0, 1f\n\t"          /* the parent (pid > 0) or a failure (-errno) */
                     "mov x29, #0\n\t"          /* the child: the outermost frame of its stack */
                     "mov x30, #0\n\t"
                     "mov x0, x10\n\t"
                     "blr x9\n\t"               /* fn's result, in x0, is the exit status */
                     "mov x8, %[exit]\n\t"
                     "svc 0\n\t"
                     "udf #0\n"                  /* not reached: exit does not return */
                     "1:"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x9), "r"(x10), [exit] "i"(SYS_exit)
                     : "memory");
    return x0;
#else
#error "the launcher supports x86_64 and aarch64"
#endif
}

#define RAW0(n) raw_syscall6((n), 0, 0, 0, 0, 0, 0)
#define RAW1(n, a) raw_syscall6((n), (long)(a), 0, 0, 0, 0, 0)
#define RAW2(n, a, b) raw_syscall6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define RAW3(n, a, b, c) raw_syscall6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define RAW4(n, a, b, c, d) raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define RAW5(n, a, b, c, d, e) raw_syscall6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

#endif
