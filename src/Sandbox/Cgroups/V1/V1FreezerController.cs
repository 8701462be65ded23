namespace Sandbox.Cgroups.V1;

/// <summary>The v1 freezer controller: freezer.state, used to stop a sandbox's processes while they are killed.</summary>
internal static class V1FreezerController
{
    /// <summary>The controller's name.</summary>
    public const string Name = "freezer";

    /// <summary>Asks the kernel to freeze the cgroup (the state passes through FREEZING).</summary>
    public static void Freeze(ICgroupFileSystem fileSystem, string directory) =>
        CgroupFiles.Write(fileSystem, directory + "/freezer.state", FreezerStateFormat.Format(FreezerState.Frozen), "freeze the sandbox");

    /// <summary>Lets the cgroup's tasks run again (killed ones then die).</summary>
    public static void Thaw(ICgroupFileSystem fileSystem, string directory) =>
        CgroupFiles.Write(fileSystem, directory + "/freezer.state", FreezerStateFormat.Format(FreezerState.Thawed), "thaw the sandbox");

    /// <summary>The current state; THAWED if the cgroup is gone.</summary>
    public static FreezerState ReadState(ICgroupFileSystem fileSystem, string directory) =>
        CgroupFiles.TryRead(fileSystem, directory + "/freezer.state") is { } text ? FreezerStateFormat.Parse(text) : FreezerState.Thawed;
}
