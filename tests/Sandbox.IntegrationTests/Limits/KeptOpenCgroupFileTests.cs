using System.Globalization;
using Sandbox.Cgroups;

namespace Sandbox.IntegrationTests.Limits;

/// <summary>
/// A cgroup control file kept open answers every later read afresh (one pread from its start), and removing its cgroup
/// closes it: the files a prepared cgroup's accounting reads are opened before its sandbox exists.
/// </summary>
[Collection(LimitsCollection.Name)]
public sealed class KeptOpenCgroupFileTests
{
    [Fact(Timeout = 30_000)]
    public async Task A_kept_open_control_file_reads_the_current_value_and_is_closed_with_its_cgroup()
    {
        await Task.Yield();
        string hierarchy = SandboxCgroupDirectories.HostUsesCgroupV1 ? "/sys/fs/cgroup/pids" : "/sys/fs/cgroup";
        string directory = $"{hierarchy}/sandbox-kept-open-test-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}";
        string file = directory + "/pids.max";
        var fileSystem = new CgroupFileSystem();
        fileSystem.CreateDirectory(directory);
        try
        {
            fileSystem.WriteText(file, "5");
            fileSystem.KeepOpen([file, directory + "/no-such-file"]);
            Assert.Contains(OpenFileTargets(), target => target == file);

            Assert.Equal("5\n", fileSystem.TryReadText(file));
            fileSystem.WriteText(file, "7");
            Assert.Equal("7\n", fileSystem.TryReadText(file));
        }
        finally
        {
            fileSystem.RemoveDirectory(directory);
        }
        Assert.DoesNotContain(OpenFileTargets(), target => target.StartsWith(directory, StringComparison.Ordinal));
        Assert.False(Directory.Exists(directory));
    }

    private static List<string> OpenFileTargets() =>
        [.. Directory.EnumerateFileSystemEntries("/proc/self/fd").Select(fd =>
        {
            try
            {
                return new FileInfo(fd).LinkTarget ?? "";
            }
            catch (IOException)
            {
                return "";
            }
        })];
}
