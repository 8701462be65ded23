using System.Diagnostics;
using Sandbox.Seccomp;

namespace Sandbox.IntegrationTests.Seccomp;

/// <summary>
/// Compiled filters on the real kernel: a small C helper, compiled here, loads the bytes of a filter
/// (seccomp(SECCOMP_SET_MODE_FILTER) after no_new_privs), then makes syscalls and prints the errno of each.
/// The kernel accepting the program at all checks its encoding; the errnos check its meaning.
/// </summary>
public sealed class SeccompKernelTests : IDisposable
{
    private const string HelperSource = """
        #define _GNU_SOURCE
        #include <errno.h>
        #include <linux/filter.h>
        #include <linux/seccomp.h>
        #include <sched.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>
        #include <sys/mount.h>
        #include <sys/prctl.h>
        #include <sys/socket.h>
        #include <sys/syscall.h>
        #include <sys/wait.h>
        #include <unistd.h>

        static void report(const char *name, long rc) { printf("%s %d\n", name, rc < 0 ? errno : 0); fflush(stdout); }

        int main(int argc, char **argv) {
            static struct sock_filter filter[4096];
            FILE *f = fopen(argv[1], "rb");
            if (!f) { perror("open filter"); return 2; }
            size_t n = fread(filter, sizeof filter[0], 4096, f);
            fclose(f);
            struct sock_fprog prog = { .len = (unsigned short)n, .filter = filter };
            if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) { perror("no_new_privs"); return 2; }
            if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog)) { printf("load %d\n", errno); return 3; }
            printf("load 0\n");
            report("getpid", getpid());
            report("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
            report("unshare_user", unshare(CLONE_NEWUSER));
            report("clone3", syscall(SYS_clone3, NULL, 0));
            report("socket_alg", socket(38 /* AF_ALG */, SOCK_SEQPACKET, 0));
            report("socket_unix", socket(AF_UNIX, SOCK_STREAM, 0));
            report("userfaultfd", syscall(SYS_userfaultfd, 0));
            pid_t child = fork();
            if (child == 0) _exit(0);
            if (child > 0) waitpid(child, NULL, 0);
            report("fork", child);
            return 0;
        }
        """;

    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("sandbox-seccomp-kernel-");
    private readonly string _helper;

    public SeccompKernelTests()
    {
        string source = Path.Combine(_work.FullName, "seccomp_helper.c");
        _helper = Path.Combine(_work.FullName, "seccomp_helper");
        File.WriteAllText(source, HelperSource);
        var (code, output) = Run("cc", "-std=gnu11", "-Wall", "-o", _helper, source);
        if (code != 0)
            throw new InvalidOperationException($"The seccomp helper did not compile:\n{output}");
    }

    public void Dispose() => _work.Delete(recursive: true);

    private Dictionary<string, int> LoadAndCall(SeccompPolicy policy)
    {
        string filter = Path.Combine(_work.FullName, Guid.NewGuid().ToString("N") + ".bpf");
        File.WriteAllBytes(filter, policy.CompileToBytes());
        var (code, output) = Run(_helper, filter);
        Assert.True(code == 0, $"The helper exited with {code}:\n{output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact(Timeout = 60_000)]
    public async Task The_kernel_loads_the_default_profile_and_it_refuses_what_it_says()
    {
        await Task.Yield();
        var errno = LoadAndCall(SeccompPolicy.Default);
        Assert.Equal(0, errno["load"]);
        Assert.Equal(0, errno["getpid"]);
        Assert.Equal(LinuxErrno.EPERM, errno["mount"]);
        Assert.Equal(LinuxErrno.EPERM, errno["unshare_user"]);
        Assert.Equal(LinuxErrno.ENOSYS, errno["clone3"]);
        Assert.Equal(LinuxErrno.EAFNOSUPPORT, errno["socket_alg"]);
        Assert.Equal(0, errno["socket_unix"]);
        Assert.Equal(LinuxErrno.EPERM, errno["userfaultfd"]);
        Assert.Equal(0, errno["fork"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_judge_profile_refuses_sockets_and_new_processes_on_the_kernel()
    {
        await Task.Yield();
        var errno = LoadAndCall(SeccompPolicy.Judge);
        Assert.Equal(0, errno["load"]);
        Assert.Equal(0, errno["getpid"]);
        Assert.Equal(LinuxErrno.EACCES, errno["socket_unix"]);
        Assert.Equal(LinuxErrno.EPERM, errno["fork"]);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_imported_Moby_profile_loads_and_refuses_mount()
    {
        await Task.Yield();
        string? profile = FindMobyProfile();
        Assert.True(profile is not null, "shared/fixtures/seccomp/moby-default.json was not found beside the repository: check out shared/ next to it.");
        var errno = LoadAndCall(Sandbox.Seccomp.Profiles.DockerProfileImporter.ImportFile(profile).Policy);
        Assert.Equal(0, errno["load"]);
        Assert.Equal(LinuxErrno.EPERM, errno["mount"]);
        Assert.Equal(LinuxErrno.ENOSYS, errno["clone3"]);
        Assert.Equal(0, errno["fork"]);
    }

    private static string? FindMobyProfile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "seccomp", "moby-default.json");
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }

    private static (int Code, string Output) Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
