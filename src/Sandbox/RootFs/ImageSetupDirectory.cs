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
/// <c>etc/hosts</c> and <c>etc/resolv.conf</c>, the directories <c>proc/</c>, <c>dev/</c>, <c>tmp/</c>, and the targets of
/// the spec's own mounts that the image lacks (a directory, or an empty file for a bind of a file). A directory on the way
/// that the image has (<c>etc/</c>) gets the image's mode, owner and time: overlayfs shows a merged directory's attributes,
/// and copies them up, from its top-most layer. Mounting on them changes nothing in the upper directory, as writing
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
    /// whose layer directories (top first) are <paramref name="imageLowers"/>, with the spec's own mounts on
    /// <paramref name="mountTargets"/> (normalised targets, and whether each is a directory).
    /// </summary>
    public static void Prepare(string setupDirectory, IReadOnlyList<(string Target, string Contents)> files, ImmutableArray<string> imageLowers,
        IReadOnlyList<(string Target, bool Directory)> mountTargets, SandboxIdentity user, SandboxIdentity hostUser)
    {
        string step = setupDirectory;
        try
        {
            Directory.CreateDirectory(setupDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var dir = ConfinedDirectory.Open(setupDirectory);
            var previous = ReadRecord(dir);

            step = MountPointsDirectory(setupDirectory);
            dir.Remove(MountPointsName);
            MakeDirectory(dir, MountPointsName, FileModes.Mode0755);
            var mirrored = new List<(string Path, FileNodeStatus Image, byte[]? RecordedOwner)>();
            // The runtime's own mount points always (the image's /etc/hosts may be a symlink; /proc, /dev, /tmp are covered anyway);
            // the spec's only where the image lacks them (mounting on what the image has changes nothing).
            var placeholders = files.Select(f => (Relative: f.Target.TrimStart('/'), Directory: false, Always: true))
                .Concat(MountPointDirectories.Select(d => (Relative: d.Path, Directory: true, Always: true)))
                .Concat(mountTargets.Select(m => (Relative: m.Target.TrimStart('/'), m.Directory, Always: false)));
            foreach (var (relative, isDirectory, always) in placeholders)
            {
                if (relative.Length == 0 || (!always && ImageStatus(imageLowers, relative) is not null)) continue;
                var ancestors = relative.Split('/')[..^1].Select((_, i) => string.Join('/', relative.Split('/')[..(i + 1)])).ToList();
                var images = ancestors.Select(a => ImageStatus(imageLowers, a)).ToList();
                if (!always && images.Any(i => i is { Status.IsDirectory: false })) continue; // beneath a file or symlink of the image: the mount fails as it would
                for (int i = 0; i < ancestors.Count; i++)
                {
                    string path = MountPointsName + "/" + ancestors[i];
                    if (dir.TryStatus(path) is not null) continue;
                    MakeDirectory(dir, path, FileModes.Mode0755);
                    if (images[i] is { Status.IsDirectory: true } image) mirrored.Add((path, image.Status, image.RecordedOwner));
                }
                string leaf = MountPointsName + "/" + relative;
                if (dir.TryStatus(leaf) is not null) continue;
                if (isDirectory)
                    MakeDirectory(dir, leaf, MountPointDirectories.FirstOrDefault(d => d.Path == relative) is { Path: not null } known ? known.Mode : FileModes.Mode0755);
                else
                    using (dir.CreateFile(leaf, FileModes.Mode0644)) { }
            }
            // Deepest first, so making a directory's children does not change its time afterwards.
            foreach (var (path, image, recordedOwner) in mirrored.OrderByDescending(m => m.Path.Count(c => c == '/')))
            {
                if (recordedOwner is not null)
                    dir.SetExtendedAttribute(path, Images.Layers.RecordedOwner.XattrName, recordedOwner);
                if (FileSystemCalls.Geteuid() == 0) // rootless, the image's files and these are all the host user's
                    dir.SetOwner(path, image.Uid, image.Gid);
                dir.SetMode(path, image.Permissions);
                dir.SetTimes(path, image.ModificationTime, image.ModificationTime);
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
    /// What the image's merged tree has at <paramref name="relative"/> ("a/b"), as overlayfs would show it: the status from
    /// the top-most layer that has it, and the owner its layer recorded there if the unpacking could not give it
    /// (<see cref="Images.Layers.RecordedOwner"/>); null if it is missing, whited out, or beneath a non-directory. A
    /// directory merges with the same directory of the layers below until one is opaque.
    /// </summary>
    internal static (FileNodeStatus Status, byte[]? RecordedOwner)? ImageStatus(ImmutableArray<string> lowers, string relative)
    {
        IReadOnlyList<string> merging = lowers;
        (FileNodeStatus Status, byte[]? RecordedOwner)? found = null;
        string path = "";
        foreach (var component in relative.Split('/'))
        {
            if (found is { Status.IsDirectory: false }) return null; // beneath a file or symlink
            path = path.Length == 0 ? component : path + "/" + component;
            found = null;
            var below = new List<string>();
            foreach (var lower in merging)
            {
                using var layer = ConfinedDirectory.Open(lower);
                if (layer.TryStatus(path) is not { } status) continue;
                var xattrs = status.IsRegularFile || status.IsDirectory ? layer.ReadExtendedAttributes(path) : [];
                if (status.IsOverlayWhiteout || (status.IsRegularFile && status.Size == 0 && xattrs.Any(x => x.Name is "user.overlay.whiteout" or "trusted.overlay.whiteout")))
                    break; // hides it in the layers below
                found ??= (status, xattrs.FirstOrDefault(x => x.Name == Images.Layers.RecordedOwner.XattrName).Value);
                if (!status.IsDirectory || !found.Value.Status.IsDirectory) break;
                below.Add(lower);
                if (xattrs.Any(x => x.Name is "user.overlay.opaque" or "trusted.overlay.opaque" && x.Value.AsSpan().SequenceEqual("y"u8)))
                    break;
            }
            if (found is null) return null;
            merging = below;
        }
        return found;
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
