namespace Sandbox.Cgroups;

/// <summary>Removes a cgroup and its descendants, deepest first, retrying while the kernel reports them busy.</summary>
internal static class CgroupTree
{
    /// <summary>
    /// rmdir's <paramref name="directory"/> and everything below it; a cgroup that is already gone is fine. While the
    /// kernel says EBUSY (exiting tasks still being released), retries every <see cref="CgroupOptions.PollInterval"/>
    /// for up to <see cref="CgroupOptions.RemoveTimeout"/>.
    /// </summary>
    public static async Task RemoveAsync(
        ICgroupFileSystem fileSystem, string directory, CgroupOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        CgroupIOException? last = null;
        bool removed = await CgroupPolling.WaitUntilAsync(
            () =>
            {
                try
                {
                    RemoveDeepestFirst(fileSystem, directory);
                    return true;
                }
                catch (CgroupIOException e) when (e.Errno is CgroupIOException.EBUSY or CgroupIOException.ENOTEMPTY)
                {
                    last = e;
                    return false;
                }
                catch (CgroupIOException e)
                {
                    throw new CgroupException("remove the sandbox cgroup", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
                }
            },
            options.RemoveTimeout, options.PollInterval, time, cancellationToken).ConfigureAwait(false);
        if (!removed)
        {
            throw new CgroupException(
                $"remove the sandbox cgroup within {options.RemoveTimeout.TotalMilliseconds:0} ms", last?.Path ?? directory, last?.Errno ?? 0,
                "Processes are still in it: kill them first; a task in uninterruptible sleep (D state, e.g. stuck I/O) "
                + "keeps it busy until that I/O ends.", last);
        }
    }

    /// <summary>
    /// One rmdir per directory, nothing else: true if every one is gone (removed now or before); false as soon as the
    /// kernel refuses one because processes or child cgroups are left (EBUSY, ENOTEMPTY), leaving the rest in place.
    /// </summary>
    public static bool TryRemoveEmpty(ICgroupFileSystem fileSystem, IEnumerable<string> directories)
    {
        foreach (string directory in directories)
        {
            try
            {
                fileSystem.RemoveDirectory(directory);
            }
            catch (CgroupIOException e) when (e.Errno == CgroupIOException.ENOENT)
            {
                // Already gone.
            }
            catch (CgroupIOException e) when (e.Errno is CgroupIOException.EBUSY or CgroupIOException.ENOTEMPTY)
            {
                return false;
            }
            catch (CgroupIOException e)
            {
                throw new CgroupException("remove the sandbox cgroup", e.Path, e.Errno, CgroupFiles.FixFor(e.Errno), e);
            }
        }
        return true;
    }

    private static void RemoveDeepestFirst(ICgroupFileSystem fileSystem, string directory)
    {
        if (!fileSystem.Exists(directory))
        {
            return;
        }
        foreach (string child in fileSystem.ListDirectories(directory))
        {
            RemoveDeepestFirst(fileSystem, CgroupPaths.Join(directory, child));
        }
        try
        {
            fileSystem.RemoveDirectory(directory);
        }
        catch (CgroupIOException e) when (e.Errno == CgroupIOException.ENOENT)
        {
            // Removed meanwhile.
        }
    }
}
