using System.Runtime.InteropServices;
using Sandbox.Launch;

namespace Sandbox.Interop;

/// <summary>The native launcher library (src/native/launcher, built next to this assembly).</summary>
internal static unsafe partial class NativeLauncherMethods
{
    public const string LibraryName = "sandbox_launcher";

    /// <summary>Runs a plan: 0 once the payload has been exec'd, -1 with the error filled in otherwise.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_launch")]
    public static partial int Launch(byte* plan, LaunchResultRecord* result);

    /// <summary>Builds a root template from a plan: 0 and the tree's fd, or -1 with the error filled in.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_build_root_template")]
    public static partial int BuildRootTemplate(byte* plan, int* treeFd, SetupErrorRecord* error);

    /// <summary>Makes a mount namespace whose root is a copy of a root template: 0 and its fd, or -1 with the error filled in.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_create_root_namespace")]
    public static partial int CreateRootNamespace(int treeFd, byte* staging, int* namespaceFd, SetupErrorRecord* error);

    /// <summary>Makes a network namespace with lo up on the calling thread's behalf: 0 and an fd, or -errno.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_create_network_namespace")]
    public static partial int CreateNetworkNamespace(int* namespaceFd);

    /// <summary>Makes a user namespace with these maps (NUL-terminated map texts): 0 and an fd, or -errno.</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_create_user_namespace")]
    public static partial int CreateUserNamespace(byte* uidMap, byte* gidMap, int* namespaceFd);

    /// <summary>sizeof() of the launcher's records, by record number (1 plan ... 6 launch result).</summary>
    [LibraryImport(LibraryName, EntryPoint = "sbx_layout_size")]
    public static partial uint LayoutSize(uint record);
}
