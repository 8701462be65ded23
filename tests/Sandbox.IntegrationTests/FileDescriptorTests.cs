using Sandbox.IntegrationTests.Support;
using Tmds.Linux;

namespace Sandbox.IntegrationTests;

public sealed class FileDescriptorTests
{
    [Fact(Timeout = 60_000)]
    public async Task Only_stdin_stdout_and_stderr_are_open_in_the_program()
    {
        var output = await Probe.RunAsync("fds");

        Assert.Equal(["0", "1", "2"], output.Lines());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_descriptor_the_host_leaks_without_close_on_exec_does_not_reach_the_program()
    {
        using var file = File.OpenHandle(typeof(FileDescriptorTests).Assembly.Location);
        int leaked = LibC.dup((int)file.DangerousGetHandle()); // dup() clears FD_CLOEXEC
        Assert.True(leaked > 2, "dup failed");
        try
        {
            var output = await Probe.RunAsync("fds");

            Assert.Equal(["0", "1", "2"], output.Lines());
        }
        finally
        {
            LibC.close(leaked);
        }
    }
}
