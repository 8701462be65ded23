/*
 * The whole runtime of a program built without libc (-nostdlib -ffreestanding): the process entry point
 * and the two memory functions a C compiler may emit calls to on its own.
 *
 * The includer defines
 *
 *     int freestanding_main(int argc, char **argv, char **envp);
 *
 * and the process exits with what it returns. Nothing runs before it: there are no constructors, no TLS,
 * no stack protector canary, no errno and no CPU feature detection (glibc's static start-up executes
 * `cpuid` several times, and each one traps to the hypervisor in a VM). Include this header in exactly
 * one translation unit of a program linked with -static -nostdlib.
 */
#ifndef SANDBOX_FREESTANDING_H
#define SANDBOX_FREESTANDING_H

#include "raw_syscall.h"

#include <stddef.h>
#include <stdint.h>

int freestanding_main(int argc, char **argv, char **envp);

/*
 * The kernel starts a program at _start with the stack pointer at the initial stack it built:
 *
 *     argc, argv[0] .. argv[argc - 1], NULL, envp[0] .. NULL, auxv pairs .. AT_NULL
 *
 * _start passes that address to freestanding_entry, after clearing the frame pointer (and on aarch64 the
 * link register) so that a debugger's backtrace ends here, and aligning the stack to 16 bytes as both
 * ABIs require at a call (the kernel already does; the alignment costs one instruction and relies on
 * nothing).
 */
#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        ".type _start, @function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call freestanding_entry\n"
        "    hlt\n"
        ".size _start, . - _start\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        ".type _start, %function\n"
        "_start:\n"
        "    mov x29, #0\n"
        "    mov x30, #0\n"
        "    mov x0, sp\n"
        "    and sp, x0, #-16\n"
        "    bl freestanding_entry\n"
        "    udf #0\n"
        ".size _start, . - _start\n");
#else
#error "the freestanding runtime supports x86_64 and aarch64"
#endif

/* Ends the process (every thread of it) with CODE. */
__attribute__((noreturn)) static inline void freestanding_exit(int code)
{
    for (;;) RAW1(SYS_exit_group, code);
}

/* Called only by _start (hence `used`: no C code refers to it). */
__attribute__((noreturn, used)) void freestanding_entry(uintptr_t *initial_stack);

void freestanding_entry(uintptr_t *initial_stack)
{
    int argc = (int)initial_stack[0];
    char **argv = (char **)(initial_stack + 1);
    char **envp = argv + argc + 1;
    freestanding_exit(freestanding_main(argc, argv, envp));
}

/*
 * A compiler may turn a structure's initialisation or copy into a call to memset or memcpy even in a
 * freestanding program, and -nostdlib leaves nothing to link those calls to. The stores go through a
 * volatile pointer so that the compiler cannot recognise each loop as the very function it implements
 * and call it from itself.
 */
void *memset(void *destination, int byte, size_t size);
void *memcpy(void *restrict destination, const void *restrict source, size_t size);

void *memset(void *destination, int byte, size_t size)
{
    volatile unsigned char *d = destination;
    for (size_t i = 0; i < size; i++) d[i] = (unsigned char)byte;
    return destination;
}

void *memcpy(void *restrict destination, const void *restrict source, size_t size)
{
    volatile unsigned char *d = destination;
    const unsigned char *s = source;
    for (size_t i = 0; i < size; i++) d[i] = s[i];
    return destination;
}

#endif
