using Sandbox.Interop;

namespace Sandbox.Diagnostics;

/// <summary>What lstat says about a directory or device node: its type, owner, group and permission bits.</summary>
internal sealed record HostFileStatus(HostFileKind Kind, uint Uid, uint Gid, UnixFileMode Mode)
{
    /// <summary>The type and permission bits as ls shows them: <c>crw-rw----</c>.</summary>
    public string ModeString
    {
        get
        {
            char type = Kind switch
            {
                HostFileKind.Directory => 'd',
                HostFileKind.CharacterDevice => 'c',
                HostFileKind.Symlink => 'l',
                HostFileKind.RegularFile => '-',
                _ => '?',
            };
            return $"{type}{Bits(UnixFileMode.UserRead, UnixFileMode.UserWrite, UnixFileMode.UserExecute)}"
                + $"{Bits(UnixFileMode.GroupRead, UnixFileMode.GroupWrite, UnixFileMode.GroupExecute)}"
                + $"{Bits(UnixFileMode.OtherRead, UnixFileMode.OtherWrite, UnixFileMode.OtherExecute)}";
        }
    }

    /// <summary><c>crw-rw---- owner 0 group 36</c>.</summary>
    public override string ToString() => $"{ModeString} owner {Uid} group {Gid}";

    private string Bits(UnixFileMode r, UnixFileMode w, UnixFileMode x) =>
        $"{(Mode.HasFlag(r) ? 'r' : '-')}{(Mode.HasFlag(w) ? 'w' : '-')}{(Mode.HasFlag(x) ? 'x' : '-')}";
}
