using Sandbox.IntegrationTests.Support;
using static Sandbox.IntegrationTests.Images.StoreFixtures;

namespace Sandbox.IntegrationTests.Images;

/// <summary>A writable image root's upper layer lives in a tmpfs capped by <see cref="SandboxSpec.ImageWriteSizeBytes"/>.</summary>
public sealed class ImageWriteCapTests
{
    [Fact(Timeout = 180_000)]
    public async Task Writes_over_a_writable_image_root_stop_at_the_image_write_cap_and_smaller_ones_succeed()
    {
        using var temp = TempDirectory.Create();
        var store = NewStore(temp);
        await ImportBusyboxAsync(store);
        using var lease = store.Lease(Busybox);
        var spec = SandboxSpec.Command("/bin/sh", "-c", """
            head -c 1048576 /dev/zero > /small && echo small-ok
            head -c 8388608 /dev/zero > /big || echo big-refused
            """).WithImage(lease).WithoutNamespaces(SandboxNamespaces.User).WithUser(0, 0).WithWorkingDirectory("/")
            .WithWritableRoot().WithImageWriteSize(4 << 20);

        var result = await spec.RunAsync();

        Assert.Contains("small-ok\n", result.StandardOutput.Text, StringComparison.Ordinal);
        Assert.Contains("big-refused\n", result.StandardOutput.Text, StringComparison.Ordinal);
        // The full tmpfs reaches the writer through overlayfs as ENOSPC or, for this write, EIO (Linux 6.18).
        Assert.Matches("No space left on device|I/O error", result.StandardError.Text);
    }
}
