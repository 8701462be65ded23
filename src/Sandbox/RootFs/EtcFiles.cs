namespace Sandbox.RootFs;

/// <summary>The contents of the sandbox's minimal /etc.</summary>
internal static class EtcFiles
{
    public const string NsSwitch = "passwd: files\ngroup: files\nhosts: files dns\n";

    public const string NoResolver = "# no network: this sandbox has only loopback\n";

    public static string Passwd(uint uid, uint gid)
    {
        var lines = new List<string> { "root:x:0:0:root:/root:/bin/sh" };
        if (uid != 0) lines.Add($"sandbox:x:{uid}:{gid}:sandbox:/tmp:/bin/sh");
        if (uid != 65534) lines.Add("nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin");
        return string.Join('\n', lines) + "\n";
    }

    public static string Group(uint gid)
    {
        var lines = new List<string> { "root:x:0:" };
        if (gid != 0) lines.Add($"sandbox:x:{gid}:");
        if (gid != 65534) lines.Add("nogroup:x:65534:");
        return string.Join('\n', lines) + "\n";
    }

    public static string Hosts(string hostname) =>
        $"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname}\n";
}
