namespace Sandbox.Cgroups;

/// <summary>
/// Turns the device of an I/O limit (<c>MAJ:MIN</c>, or a device path such as <c>/dev/vda</c> or a symlink to one) into
/// the whole disk's number io.max and blkio.throttle.* take, reading only /dev links and /sys/class/block and
/// /sys/dev/block through the seam. The kernel throttles whole disks only (it answers ENODEV for a partition), so a
/// partition is refused here with its disk named.
/// </summary>
internal static class BlockDeviceResolver
{
    private const int MaxLinkHops = 16;

    /// <summary>The disk's number, or null and why not (naming the value and the fix).</summary>
    public static DeviceNumber? Resolve(ICgroupFileSystem fileSystem, string device, out string? problem)
    {
        problem = null;
        DeviceNumber number;
        if (DeviceNumber.TryParse(device, out number))
        {
            if (!fileSystem.Exists($"/sys/dev/block/{number}"))
            {
                problem = $"I/O limit device {number} is not a block device of this host (/sys/dev/block/{number} is absent): see lsblk for MAJ:MIN of its disks.";
                return null;
            }
        }
        else if (ResolveNode(fileSystem, device, out problem) is { } resolved)
        {
            number = resolved;
        }
        else
        {
            return null;
        }

        if (fileSystem.Exists($"/sys/dev/block/{number}/partition"))
        {
            string disk = DiskOf(fileSystem, number) is { } d ? $"its disk {d.Name} ({d.Number})" : "its whole disk";
            problem = $"I/O limit device '{device}' ({number}) is a partition; the kernel throttles whole disks only: limit {disk} instead.";
            return null;
        }
        return number;
    }

    /// <summary>The number of the block device node at <paramref name="path"/>, following symlinks.</summary>
    private static DeviceNumber? ResolveNode(ICgroupFileSystem fileSystem, string path, out string? problem)
    {
        problem = null;
        string current = path;
        for (int hop = 0; hop < MaxLinkHops && fileSystem.TryReadLink(current) is { } target; hop++)
        {
            current = Path.GetFullPath(target, Path.GetDirectoryName(current) ?? "/");
        }
        if (!fileSystem.Exists(current))
        {
            problem = $"I/O limit device '{path}' does not exist on this host: name a disk's device node (e.g. /dev/vda) or its MAJ:MIN (see lsblk).";
            return null;
        }
        string name = Path.GetFileName(current);
        if (!current.StartsWith("/dev/", StringComparison.Ordinal)
            || CgroupFiles.TryRead(fileSystem, $"/sys/class/block/{name}/dev") is not { } text
            || !DeviceNumber.TryParse(text, out DeviceNumber number))
        {
            problem = $"I/O limit device '{path}'{(current == path ? "" : $" ({current})")} is not a block device node under /dev: name a disk such as /dev/vda, or its MAJ:MIN (see lsblk).";
            return null;
        }
        return number;
    }

    /// <summary>The disk a partition belongs to: its sysfs directory's parent.</summary>
    private static (string Name, DeviceNumber Number)? DiskOf(ICgroupFileSystem fileSystem, DeviceNumber partition)
    {
        string link = $"/sys/dev/block/{partition}";
        if (fileSystem.TryReadLink(link) is not { } target)
            return null;
        string partitionDirectory = Path.GetFullPath(target, "/sys/dev/block");
        string? diskDirectory = Path.GetDirectoryName(partitionDirectory);
        return diskDirectory is not null
            && CgroupFiles.TryRead(fileSystem, diskDirectory + "/dev") is { } text
            && DeviceNumber.TryParse(text, out DeviceNumber disk)
            ? (Path.GetFileName(diskDirectory), disk)
            : null;
    }
}
