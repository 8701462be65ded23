using Sandbox.Interop;

namespace Sandbox.Tests.Images;

/// <summary>A fresh directory for one test, removed (without following symlinks) on dispose.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory() => Path = Directory.CreateTempSubdirectory("sandbox-images-").FullName;

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates a subdirectory and returns its path.</summary>
    public string Make(string name) => Directory.CreateDirectory(Combine(name)).FullName;

    public void Dispose()
    {
        try
        {
            using (var dir = ConfinedDirectory.Open(Path))
                dir.Remove("");
            Directory.Delete(Path);
        }
        catch (IOException)
        {
        }
    }
}
