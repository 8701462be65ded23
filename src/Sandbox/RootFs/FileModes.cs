namespace Sandbox.RootFs;

/// <summary>Permission bits used by the mount plan (C# has no octal literals; the octal form is in each name).</summary>
internal static class FileModes
{
    public const uint Mode0555 = (5 << 6) | (5 << 3) | 5;
    public const uint Mode0644 = (6 << 6) | (4 << 3) | 4;
    public const uint Mode0666 = (6 << 6) | (6 << 3) | 6;
    public const uint Mode0755 = (7 << 6) | (5 << 3) | 5;
    public const uint Mode1777 = (1 << 9) | (7 << 6) | (7 << 3) | 7;
}
