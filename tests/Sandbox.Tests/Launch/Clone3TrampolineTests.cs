using System.Diagnostics;

namespace Sandbox.Tests.Launch;

/// <summary>
/// raw_clone3_run (src/native/launcher/raw_syscall.h), the launcher's clone3 trampoline, compiled as the launcher is and
/// run for real (no privilege needed): the CLONE_VM child runs fn on the stack it was given, exits with fn's result and
/// never returns into its parent's frame; a refused clone3 returns -errno and makes no child. (Linux 5.3+: clone3 itself;
/// the project needs 5.12.)
/// </summary>
public sealed class Clone3TrampolineTests : IDisposable
{
    private const string Program = """
        #define _GNU_SOURCE
        #include "raw_syscall.h"
        #include <errno.h>
        #include <sched.h>
        #include <signal.h>
        #include <stdint.h>
        #include <stdio.h>
        #include <string.h>
        #include <sys/mman.h>
        #include <sys/wait.h>
        #include <linux/sched.h>

        #define STACK_SIZE (64 * 1024)
        static volatile uintptr_t child_local;
        static volatile int child_arg, returns;

        static int child(void *arg)
        {
            int local = 0;
            child_local = (uintptr_t)&local;
            child_arg = *(int *)arg;
            return 42;
        }

        static long run(uint64_t flags, int cgroup, char *stack, int *pidfd)
        {
            static int value = 7;
            struct clone_args args;
            memset(&args, 0, sizeof args);
            args.flags = flags;
            args.pidfd = (uintptr_t)pidfd;
            args.exit_signal = SIGCHLD;
            args.stack = (uintptr_t)stack;
            args.stack_size = STACK_SIZE;
            args.cgroup = (uint64_t)cgroup;
            long pid = raw_clone3_run(&args, sizeof args, child, &value);
            returns++; /* shared memory: a child that came back here would count too */
            return pid;
        }

        int main(void)
        {
            char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
            int pidfd = -1, status = 0;
            long pid = run(CLONE_VM | CLONE_PIDFD, 0, stack, &pidfd);
            if (pid <= 0 || waitpid((pid_t)pid, &status, __WALL) != pid) { printf("clone3 %ld\n", pid); return 1; }
            printf("exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
            printf("arg %d\n", child_arg);
            printf("on_its_stack %d\n", child_local >= (uintptr_t)stack && child_local < (uintptr_t)stack + STACK_SIZE);
            printf("pidfd %d\n", pidfd >= 0);
            printf("returns %d\n", returns);
            child_arg = 0;
            long refused = run(CLONE_VM | CLONE_INTO_CGROUP, 987654, stack, &pidfd); /* not an open fd */
            printf("refused %ld\n", refused);
            printf("no_child %d\n", waitpid(-1, &status, __WALL | WNOHANG) < 0 && errno == ECHILD && child_arg == 0);
            return 0;
        }
        """;

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("sandbox-clone3-");

    [Fact]
    public void The_child_runs_on_its_own_stack_exits_with_fns_result_and_never_returns_into_the_parent()
    {
        var values = CompileAndRun();

        Assert.Equal("42", values["exit"]);
        Assert.Equal("7", values["arg"]);
        Assert.Equal("1", values["on_its_stack"]);
        Assert.Equal("1", values["pidfd"]);
        Assert.Equal("1", values["returns"]);
    }

    [Fact]
    public void A_refused_clone3_returns_minus_errno_and_makes_no_child()
    {
        var values = CompileAndRun();

        Assert.Equal("-9", values["refused"]); // EBADF: the cgroup fd is not open
        Assert.Equal("1", values["no_child"]);
    }

    public void Dispose() => _work.Delete(recursive: true);

    private Dictionary<string, string> CompileAndRun()
    {
        string source = Path.Combine(_work.FullName, "clone3.c");
        string program = Path.Combine(_work.FullName, "clone3");
        File.WriteAllText(source, Program);
        // The launcher's own flags (Directory.Build.targets).
        var (compiled, compilerOutput) = Run("cc", ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", RepositoryPaths.LauncherSources, "-o", program, source]);
        Assert.True(compiled, compilerOutput);
        var (ran, output) = Run(program, []);
        Assert.True(ran, output);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);
    }

    private static (bool Ok, string Output) Run(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, stdout + stderr.Result);
    }
}
