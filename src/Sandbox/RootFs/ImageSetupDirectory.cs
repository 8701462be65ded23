using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Sandbox.Interop;
using Sandbox.Launch;

namespace Sandbox.RootFs;

/// <summary>
/// The host side of a run on an image with a writable layer on disk (<see cref="SandboxSpec.ImageSetupDirectory"/>): the
/// runtime's own files and mount points are kept out of the overlay's upper directory, so that a commit of a run that
/// changed nothing is empty. Beside the writable layer, in <c>setup/</c>:
/// <list type="bullet">
/// <item><c>mountpoints/</c>: a lower layer laid over the image's (top-most), holding what the setup mounts on: empty
/// <c>etc/hosts</c> and <c>etc/resolv.conf</c> (in an <c>etc/</c> with the image's mode, owner and time) and the
/// directories <c>proc/</c>, <c>dev/</c>, <c>tmp/</c>. Mounting on them changes nothing in the upper directory, as writing
/// through the overlay would (a copy-up of <c>etc/</c>), and an image that lacks them needs nothing made in it.</item>
/// <item><c>files/etc/hosts</c>, <c>files/etc/resolv.conf</c>: what the sandbox sees there, bind-mounted onto those
/// mount points; what the program writes to them stays there, and a commit adds a file the program changed.</item>
/// <item><c>run.json</c>: each of those files as written (<see cref="ImageSetupRecord"/>) and the ids of the run.</item>
/// </list>
/// A file a previous run on the same layer changed is kept (it is the layer's, as a container's /etc/hosts is); the mount
/// points are made afresh for every run.
/// </summary>
internal static class ImageSetupDirectory
{
    private const string MountPointsName = "mountpoints";
    private const string FilesName = "files";
    private const string RecordName = "run.json";

    /// <summary>The directories the setup mounts file systems on (procfs, the /dev tmpfs, the /tmp tmpfs), with the mode each placeholder gets.</summary>
    private static readonly (string Path, uint Mode)[] MountPointDirectories = [("proc", FileModes.Mode0555), ("dev", FileModes.Mode0755), ("tmp", FileModes.Mode1777)];

    /// <summary>The lower layer of mount points, laid over the image's layers.</summary>
    public static string MountPointsDirectory(string setupDirectory) => Path.Combine(setupDirectory, MountPointsName);

    /// <summary>The host file bind-mounted onto <paramref name="target"/> ("/etc/hosts").</summary>
    public static string FileSource(string setupDirectory, string target) => Path.Combine(setupDirectory, FilesName, target.TrimStart('/'));

    /// <summary>
    /// Writes the mount-point layer, the runtime files (<paramref name="files"/>: targets such as "/etc/hosts" and their
    /// contents) and the record, for a run as <paramref name="user"/> mapped to <paramref name="hostUser"/> on the image
    /// whose layer directories (top first) are <paramref name="imageLowers"/>.
    /// </summary>
    public static void Prepare(string setupDirectory, IReadOnlyList<(string Target, string Contents)> files, ImmutableArray<string> imageLowers,
        SandboxIdentity user, SandboxIdentity hostUser)
    {
        string step = setupDirectory;
        try
        {
            Directory.CreateDirectory(setupDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var dir = ConfinedDirectory.Open(setupDirectory);
            var previous = ReadRecord(dir);

            step = MountPointsDirectory(setupDirectory);
            var etc = ImageDirectoryStatus(imageLowers, "etc");
            dir.Remove(MountPointsName);
            MakeDirectory(dir, MountPointsName, FileModes.Mode0755);
            MakeDirectory(dir, MountPointsName + "/etc", FileModes.Mode0755);
            foreach (var (target, _) in files)
            {
                MakeParents(dir, MountPointsName, target.TrimStart('/'));
                using (dir.CreateFile(MountPointsName + "/" + target.TrimStart('/'), FileModes.Mode0644)) { }
            }
            foreach (var (path, mode) in MountPointDirectories)
                MakeDirectory(dir, MountPointsName + "/" + path, mode);
            if (etc is var (image, recordedOwner))
            {
                // overlayfs shows (and copies up) a merged directory's attributes from its top-most layer: this one.
                if (recordedOwner is not null)
                    dir.SetExtendedAttribute(MountPointsName + "/etc", Images.Layers.RecordedOwner.XattrName, recordedOwner);
                if (FileSystemCalls.Geteuid() == 0) // rootless, the image's files and these are all the host user's
                    dir.SetOwner(MountPointsName + "/etc", image.Uid, image.Gid);
                dir.SetMode(MountPointsName + "/etc", image.Permissions);
                dir.SetTimes(MountPointsName + "/etc", image.ModificationTime, image.ModificationTime);
            }

            var written = new List<ImageSetupRecord.WrittenFile>();
            MakeDirectory(dir, FilesName, FileModes.Mode0755);
            foreach (var (target, contents) in files)
            {
                string relative = target.TrimStart('/');
                string path = FilesName + "/" + relative;
                step = FileSource(setupDirectory, target);
                if (previous?.Files.FirstOrDefault(f => f.Path == relative) is { } before && dir.TryStatus(path) is not null && IsChanged(dir, path, before))
                {
                    written.Add(before); // changed by a run before: the layer's own now
                    continue;
                }
                MakeParents(dir, FilesName, relative);
                dir.Remove(path);
                byte[] bytes = Encoding.UTF8.GetBytes(contents);
                using (var handle = dir.CreateFile(path, FileModes.Mode0644))
                using (var stream = new FileStream(handle, FileAccess.Write, bufferSize: 0))
                    stream.Write(bytes);
                dir.SetMode(path, FileModes.Mode0644);
                written.Add(new ImageSetupRecord.WrittenFile(relative, Convert.ToHexStringLower(SHA256.HashData(bytes)), FileModes.Mode0644));
            }

            step = Path.Combine(setupDirectory, RecordName);
            string temporary = step + ".tmp";
            File.WriteAllBytes(temporary, new ImageSetupRecord([.. written], user, hostUser).ToJson());
            File.Move(temporary, step, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            int errno = e is FileSystemCallException call ? call.Errno : e.HResult is > 0 and < 4096 ? e.HResult : 0;
            throw new SandboxSetupException(SetupStage.Overlay, errno, step,
                "Check that the writable layer's directory (ImageStore.CreateWritableLayer) still exists and is writable by this user, and that the image's layers are readable.",
                $"preparing the writable layer's setup files: {e.Message}");
        }
    }

    /// <summary>The record of the last run on the layer whose setup directory is <paramref name="setupDirectory"/>, or null if none was prepared.</summary>
    public static ImageSetupRecord? TryReadRecord(string setupDirectory)
    {
        if (!Directory.Exists(setupDirectory)) return null;
        using var dir = ConfinedDirectory.Open(setupDirectory);
        return ReadRecord(dir);
    }

    /// <summary>The runtime files the program changed (contents or mode) since the host wrote them: relative paths ("etc/hosts") and their host files.</summary>
    public static ImmutableArray<(string Path, string Source)> ChangedFiles(string setupDirectory, ImageSetupRecord record)
    {
        using var dir = ConfinedDirectory.Open(setupDirectory);
        return [.. record.Files
            .Where(f => dir.TryStatus(FilesName + "/" + f.Path) is { IsRegularFile: true } && IsChanged(dir, FilesName + "/" + f.Path, f))
            .Select(f => (f.Path, FileSource(setupDirectory, f.Path)))];
    }

    /// <summary>
    /// The status of the image's directory <paramref name="relative"/> (one component) as the overlay shows it, from the
    /// top-most layer that has it, with the owner its layer recorded there if the unpacking could not give it
    /// (<see cref="Images.Layers.RecordedOwner"/>); null if it is missing, whited out or not a directory.
    /// </summary>
    private static (FileNodeStatus Status, byte[]? RecordedOwner)? ImageDirectoryStatus(ImmutableArray<string> lowers, string relative)
    {
        foreach (var lower in lowers)
        {
            using var layer = ConfinedDirectory.Open(lower);
            if (layer.TryStatus(relative) is not { } status) continue;
            if (!status.IsDirectory) return null;
            return (status, layer.ReadExtendedAttributes(relative).FirstOrDefault(x => x.Name == Images.Layers.RecordedOwner.XattrName).Value);
        }
        return null;
    }

    private static bool IsChanged(ConfinedDirectory dir, string path, ImageSetupRecord.WrittenFile written)
    {
        var status = dir.TryStatus(path)!.Value;
        if (status.Permissions != written.Mode) return true;
        using var handle = dir.OpenForReading(path);
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        return Convert.ToHexStringLower(SHA256.HashData(stream)) != written.Sha256;
    }

    private static ImageSetupRecord? ReadRecord(ConfinedDirectory dir)
    {
        if (dir.TryStatus(RecordName) is not { IsRegularFile: true }) return null;
        using var handle = dir.OpenForReading(RecordName);
        using var stream = new FileStream(handle, FileAccess.Read, bufferSize: 0);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return ImageSetupRecord.TryParse(buffer.ToArray());
    }

    private static void MakeParents(ConfinedDirectory dir, string under, string relative)
    {
        string path = under;
        var parts = relative.Split('/');
        for (int i = 0; i < parts.Length - 1; i++)
        {
            path += "/" + parts[i];
            if (dir.TryStatus(path) is null) MakeDirectory(dir, path, FileModes.Mode0755);
        }
    }

    private static void MakeDirectory(ConfinedDirectory dir, string path, uint mode)
    {
        dir.TryCreateDirectory(path, mode);
        dir.SetMode(path, mode); // not the umask's
    }
}
