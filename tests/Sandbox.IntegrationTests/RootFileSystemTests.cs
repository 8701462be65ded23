using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class RootFileSystemTests
{
    /// <summary>Where the program tries to write → what it gets ("ok" or the errno's name).</summary>
    public static TheoryData<string, string> Writes => new()
    {
        { "/new-file", "EROFS" },
        { "/etc/new-file", "EROFS" },
        { "/etc/passwd", "EROFS" },
        { "/usr/new-file", "EROFS" },
        { "/usr/bin/new-file", "EROFS" },
        { "/dev/new-file", "EROFS" },
        { "/tmp/new-file", "ok" },
        { "/dev/shm/new-file", "ok" },
    };

    /// <summary>Host paths that exist (or may) on the host and must not be visible inside.</summary>
    public static TheoryData<string> HostOnlyPaths => ["/root", "/home", "/work", "/var", "/opt", "/srv", "/boot", "/etc/shadow", "/etc/hostname"];

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(Writes))]
    public async Task Only_tmp_and_dev_shm_are_writable_on_the_default_root(string path, string expected)
    {
        var output = await Probe.RunAsync("write", path);

        Assert.Equal([expected], output.Lines());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_writable_root_accepts_new_files_but_the_host_system_directories_stay_read_only()
    {
        var atRoot = (await Probe.Command("write", "/new-file").WithWritableRoot().RunAsync()).EnsureSuccess();
        var inUsr = (await Probe.Command("write", "/usr/new-file").WithWritableRoot().RunAsync()).EnsureSuccess();

        Assert.Equal(["ok"], atRoot.StandardOutput.Lines());
        Assert.False(atRoot.Isolation.ReadOnlyRoot);
        Assert.Equal(["EROFS"], inUsr.StandardOutput.Lines());
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(HostOnlyPaths))]
    public async Task Host_paths_outside_the_default_root_are_invisible(string path)
    {
        var output = await Probe.RunAsync("exists", path);

        Assert.Equal(["no"], output.Lines());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_file_the_host_just_created_in_its_tmp_is_invisible()
    {
        using var dir = TempDirectory.Create();
        string file = dir.Combine("host-secret.txt");
        await File.WriteAllTextAsync(file, "secret");

        var inDir = await Probe.RunAsync("exists", file);
        var testAssembly = await Probe.RunAsync("exists", typeof(RootFileSystemTests).Assembly.Location);

        Assert.Equal(["no"], inDir.Lines());
        Assert.Equal(["no"], testAssembly.Lines());
    }
}
