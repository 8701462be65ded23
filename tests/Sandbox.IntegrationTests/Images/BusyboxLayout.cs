using System.Diagnostics;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// A real OCI image layout built with umoci from Debian's busybox-static, once per test run: tag <c>v3</c> has
/// three layers — the base (busybox, a symlink, a hard link, a device node, modes and owners), one that deletes
/// a file (umoci writes a whiteout) and one added verbatim with an opaque marker. Also as an OCI archive and, via
/// skopeo, a docker-save archive.
/// </summary>
internal static class BusyboxLayout
{
    public const string Tag = "v3";

    /// <summary>vfs_cap_data revision 2: magic 0x02000001 with the effective bit, permitted = 1 &lt;&lt; CAP_NET_RAW (13).</summary>
    public static readonly byte[] Capability = [0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00];

    private static readonly Lazy<Built> LazyBuilt = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Layout => LazyBuilt.Value.Layout;

    public static string OciArchive => LazyBuilt.Value.OciArchive;

    public static string DockerArchive => LazyBuilt.Value.DockerArchive;

    private sealed record Built(string Layout, string OciArchive, string DockerArchive);

    private static Built Build()
    {
        string root = Directory.CreateTempSubdirectory("sandbox-busybox-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        };
        string layout = Path.Combine(root, "layout");
        string busybox = File.Exists("/bin/busybox") ? "/bin/busybox" : throw new InvalidOperationException("busybox-static is not installed (test.sh installs it).");

        Run("umoci", "init", "--layout", layout);
        Run("umoci", "new", "--image", $"{layout}:base");
        string first = Path.Combine(root, "first");
        Run("umoci", "unpack", "--image", $"{layout}:base", first);
        string rootfs = Path.Combine(first, "rootfs");
        Shell($"""
            set -e
            cd '{rootfs}'
            mkdir -p bin etc dev usr/share/data home/user
            cp '{busybox}' bin/busybox && chmod 0755 bin/busybox
            ln -s busybox bin/sh && ln -s busybox bin/ls && ln -s busybox bin/cat
            echo 'to be removed' > etc/remove-me
            printf 'secret' > etc/shadow && chmod 0640 etc/shadow
            echo mine > home/user/file && chown -R 1000:1000 home/user && chmod 0700 home/user
            ln etc/shadow etc/shadow.hardlink
            mknod dev/null c 1 3 && chmod 0666 dev/null
            for f in a b c; do echo $f > usr/share/data/$f; done
            chmod 1777 usr/share
            """);
        // A file capability (cap_net_raw, permitted and effective): a binary xattr value that must survive byte for byte.
        Sandbox.Interop.ExtendedAttributes.Set(Path.Combine(rootfs, "bin/busybox"), "security.capability", Capability);
        Run("umoci", "repack", "--image", $"{layout}:base", first);

        string second = Path.Combine(root, "second");
        Run("umoci", "unpack", "--image", $"{layout}:base", second);
        Run("rm", Path.Combine(second, "rootfs", "etc", "remove-me"));
        Run("umoci", "repack", "--image", $"{layout}:v2", second);

        string third = Path.Combine(root, "third");
        Shell($"""
            set -e
            mkdir -p '{third}/usr/share/data'
            touch '{third}/usr/share/data/.wh..wh..opq'
            echo new > '{third}/usr/share/data/new'
            tar -C '{third}' -cf '{root}/opaque.tar' usr
            """);
        Run("umoci", "raw", "add-layer", "--image", $"{layout}:v2", "--tag", Tag, Path.Combine(root, "opaque.tar"));
        Run("umoci", "config", "--image", $"{layout}:{Tag}", "--tag", Tag, "--config.entrypoint", "/bin/sh", "--config.cmd", "-c",
            "--config.cmd", "echo hi", "--config.env", "FOO=bar", "--config.workingdir", "/home/user", "--config.user", "1000:1000");
        Run("umoci", "gc", "--layout", layout);
        Run("chmod", "-R", "a+rX", layout); // the rootless tests read it as nobody
        Run("chmod", "0755", root);

        string ociArchive = Path.Combine(root, "image.oci.tar");
        Run("tar", "-C", layout, "-cf", ociArchive, ".");
        string dockerArchive = Path.Combine(root, "image.docker.tar");
        Run("skopeo", "--insecure-policy", "copy", $"oci:{layout}:{Tag}", $"docker-archive:{dockerArchive}:test/busybox:{Tag}");
        return new Built(layout, ociArchive, dockerArchive);
    }

    private static void Shell(string script) => Run("sh", "-c", script);

    internal static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish in 2 minutes");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }
}
