using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Benchmarks.Oci;

/// <summary>
/// An OCI runtime bundle for runc and crun that runs /bin/true the way Sandbox does with limits: a read-only root
/// directory holding only mount points and the host's merged-/usr symlinks, the host's /usr bound read-only (and /bin,
/// /lib, ... where they are real directories), /proc, a /dev tmpfs (the runtime adds null, zero, full, random, urandom,
/// tty), a 64 MiB /tmp; user (container root = host nobody), pid, network, ipc, uts, mount and cgroup namespaces; no
/// capabilities, no_new_privs; and the cgroup limits of <see cref="Limits"/>. Written once, used by every run (each
/// run names its container uniquely on the command line).
/// </summary>
internal sealed class OciBundle : IDisposable
{
    private OciBundle(string directory) => Directory = directory;

    /// <summary>The limits every container gets: memory (swap off), processes, one CPU of bandwidth, 1 s of CPU time.</summary>
    public const string Limits = "memory 64 MiB (memory+swap 64 MiB), pids 16, CPU quota 100000/100000 µs, RLIMIT_CPU 1 s";

    /// <summary>The bundle directory (config.json and rootfs/).</summary>
    public string Directory { get; }

    /// <summary>Writes a bundle into a new temporary directory.</summary>
    public static OciBundle Create()
    {
        string directory = System.IO.Directory.CreateTempSubdirectory("sandbox-bench-oci-").FullName;
        // The container's root (the host's nobody) must be able to reach its root directory.
        File.SetUnixFileMode(directory, (UnixFileMode)0x1ed);
        string rootfs = Path.Combine(directory, "rootfs");
        System.IO.Directory.CreateDirectory(rootfs);
        foreach (string dir in new[] { "usr", "proc", "dev", "tmp", "etc" })
            System.IO.Directory.CreateDirectory(Path.Combine(rootfs, dir));

        var mounts = new JsonArray
        {
            Mount("/proc", "proc", "proc"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "mode=755", "size=64k"),
            Mount("/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "size=64m"),
            Mount("/usr", "bind", "/usr", "bind", "ro", "nosuid", "nodev"),
        };
        foreach (string dir in new[] { "/bin", "/lib", "/lib64", "/sbin" })
        {
            var info = new FileInfo(dir);
            if (info.LinkTarget is { } target)
            {
                File.CreateSymbolicLink(Path.Combine(rootfs, dir.TrimStart('/')), target);
            }
            else if (System.IO.Directory.Exists(dir))
            {
                System.IO.Directory.CreateDirectory(Path.Combine(rootfs, dir.TrimStart('/')));
                mounts.Add(Mount(dir, "bind", dir, "bind", "ro", "nosuid", "nodev"));
            }
        }

        var config = new JsonObject
        {
            ["ociVersion"] = "1.0.2",
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                ["args"] = new JsonArray(PeerCommands.Payload),
                ["env"] = new JsonArray("PATH=/usr/bin:/bin", "HOME=/tmp"),
                ["cwd"] = "/",
                ["capabilities"] = new JsonObject
                {
                    ["bounding"] = new JsonArray(), ["effective"] = new JsonArray(), ["permitted"] = new JsonArray(),
                    ["inheritable"] = new JsonArray(), ["ambient"] = new JsonArray(),
                },
                ["rlimits"] = new JsonArray
                {
                    Rlimit("RLIMIT_NOFILE", 1024, 1024),
                    Rlimit("RLIMIT_CORE", 0, 0),
                    Rlimit("RLIMIT_CPU", 1, 2),
                },
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = "rootfs", ["readonly"] = true },
            ["hostname"] = "sandbox",
            ["mounts"] = mounts,
            ["linux"] = new JsonObject
            {
                ["uidMappings"] = new JsonArray(IdMapping()),
                ["gidMappings"] = new JsonArray(IdMapping()),
                ["resources"] = new JsonObject
                {
                    ["memory"] = new JsonObject { ["limit"] = 64L << 20, ["swap"] = 64L << 20 },
                    ["pids"] = new JsonObject { ["limit"] = 16 },
                    ["cpu"] = new JsonObject { ["quota"] = 100_000, ["period"] = 100_000 },
                },
                ["namespaces"] = new JsonArray(
                    [.. new[] { "pid", "network", "ipc", "uts", "mount", "cgroup", "user" }.Select(n => (JsonNode)new JsonObject { ["type"] = n })]),
            },
        };
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return new OciBundle(directory);
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A runtime still holds something; the temporary directory is left.
        }
    }

    private static JsonObject Mount(string destination, string type, string source, params string[] options)
    {
        var mount = new JsonObject { ["destination"] = destination, ["type"] = type, ["source"] = source };
        if (options.Length > 0)
            mount["options"] = new JsonArray([.. options.Select(o => (JsonNode)JsonValue.Create(o))]);
        return mount;
    }

    private static JsonObject Rlimit(string type, long soft, long hard) =>
        new() { ["type"] = type, ["soft"] = soft, ["hard"] = hard };

    /// <summary>Container root is the host's nobody (65534), as Sandbox maps its user on a root host.</summary>
    private static JsonObject IdMapping() =>
        new() { ["containerID"] = 0, ["hostID"] = 65534, ["size"] = 1 };

    /// <summary>A container id unique to this process and run.</summary>
    public static string ContainerId(string runtime, long run) =>
        string.Create(CultureInfo.InvariantCulture, $"sandbox-bench-{runtime}-{Environment.ProcessId}-{run}");
}
