using Sandbox.IntegrationTests.Support;

namespace Sandbox.IntegrationTests;

public sealed class BindMountTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_read_only_bind_shows_the_host_files_and_refuses_writes_with_EROFS()
    {
        using var dir = TempDirectory.Create();
        await File.WriteAllTextAsync(dir.Combine("input.txt"), "data");

        var exists = (await Probe.Command("exists", "/data/input.txt").AddReadOnlyBind(dir.Path, "/data").RunAsync()).EnsureSuccess();
        var write = (await Probe.Command("write", "/data/new-file").AddReadOnlyBind(dir.Path, "/data").RunAsync()).EnsureSuccess();

        Assert.Equal(["yes"], exists.StandardOutput.Lines());
        Assert.Equal(["EROFS"], write.StandardOutput.Lines());
        Assert.False(File.Exists(dir.Combine("new-file")));
        Assert.Contains($"/data <- {dir.Path} (ro)", exists.Isolation.Mounts);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_read_only_bind_of_a_single_file_refuses_writes()
    {
        using var dir = TempDirectory.Create();
        string file = dir.Combine("config.txt");
        await File.WriteAllTextAsync(file, "setting=1\n");
        File.SetUnixFileMode(file, TempDirectory.WritableByAll);

        var result = (await Probe.Command("write", "/config.txt").AddReadOnlyBind(file, "/config.txt").RunAsync()).EnsureSuccess();

        Assert.Equal(["EROFS"], result.StandardOutput.Lines());
        Assert.Equal("setting=1\n", await File.ReadAllTextAsync(file));
    }

    [Fact(Timeout = 60_000)]
    public async Task Writes_through_a_writable_bind_reach_the_host()
    {
        using var dir = TempDirectory.Create(TempDirectory.WritableByAll);

        var result = (await Probe.Command("write", "/out/result.txt").AddWritableBind(dir.Path, "/out").RunAsync()).EnsureSuccess();

        Assert.Equal(["ok"], result.StandardOutput.Lines());
        Assert.Equal("written by sandbox-probe\n", await File.ReadAllTextAsync(dir.Combine("result.txt")));
        Assert.Contains($"/out <- {dir.Path} (rw)", result.Isolation.Mounts);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_writable_bind_grants_no_more_than_the_host_permissions_of_nobody()
    {
        using var dir = TempDirectory.Create(TempDirectory.ReadableByAll);

        var result = (await Probe.Command("write", "/out/result.txt").AddWritableBind(dir.Path, "/out").RunAsync()).EnsureSuccess();

        Assert.Equal(["EACCES"], result.StandardOutput.Lines());
        Assert.False(File.Exists(dir.Combine("result.txt")));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_tmpfs_mount_is_writable_and_starts_empty()
    {
        var spec = Probe.Command("write", "/scratch/file").AddTmpfs("/scratch", 1 << 20);

        var result = (await spec.RunAsync()).EnsureSuccess();

        Assert.Equal(["ok"], result.StandardOutput.Lines());
        Assert.Contains(result.Isolation.Mounts, m => m.StartsWith("/scratch tmpfs", StringComparison.Ordinal));
    }
}
