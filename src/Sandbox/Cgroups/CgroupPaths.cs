namespace Sandbox.Cgroups;

/// <summary>Maps cgroup paths (as /proc/self/cgroup shows them) to directories under a cgroup mount.</summary>
internal static class CgroupPaths
{
    /// <summary>Collapses duplicate and trailing slashes: "" and "/" become "/", "a//b/" becomes "/a/b".</summary>
    public static string Normalize(string cgroupPath)
    {
        string[] parts = cgroupPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return "/" + string.Join('/', parts);
    }

    /// <summary>
    /// The directory of <paramref name="cgroupPath"/> under a mount of the hierarchy at <paramref name="mountPoint"/>
    /// whose root (mountinfo field 4) is <paramref name="mountRoot"/>; null if the cgroup is outside what is mounted
    /// (e.g. a bind mount of a sub-tree, or a path from another cgroup namespace such as <c>/../..</c>).
    /// </summary>
    public static string? ToDirectory(string mountPoint, string mountRoot, string cgroupPath)
    {
        if (cgroupPath.Split('/').Contains(".."))
        {
            return null;
        }
        string root = Normalize(mountRoot);
        string path = Normalize(cgroupPath);
        string relative;
        if (root == "/")
        {
            relative = path;
        }
        else if (path == root)
        {
            relative = "/";
        }
        else if (path.StartsWith(root + "/", StringComparison.Ordinal))
        {
            relative = path[root.Length..];
        }
        else
        {
            return null;
        }
        return Join(mountPoint, relative);
    }

    /// <summary>Joins a directory and a relative or absolute cgroup path without doubling slashes.</summary>
    public static string Join(string directory, string child)
    {
        string trimmed = child.Trim('/');
        if (trimmed.Length == 0)
        {
            return directory;
        }
        return directory.EndsWith('/') ? directory + trimmed : directory + "/" + trimmed;
    }

    /// <summary>The parent cgroup path ("/" for "/" and for a top-level cgroup).</summary>
    public static string ParentOf(string cgroupPath)
    {
        string path = Normalize(cgroupPath);
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }
}
