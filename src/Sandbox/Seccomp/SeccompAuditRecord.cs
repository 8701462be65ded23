using System.Globalization;

namespace Sandbox.Seccomp;

/// <summary>
/// The kernel's log line for a seccomp kill (audit type 1326, AUDIT_SECCOMP), as /dev/kmsg gives it:
/// <c>6,1234,9241164070,-;audit: type=1326 audit(…): … pid=13395 comm="sk" exe="/tmp/sk" sig=31 arch=c000003e syscall=110 compat=0 ip=0x… code=0x80000000</c>.
/// </summary>
/// <param name="MonotonicMicroseconds">When it was logged (the kernel's clock since boot, in µs).</param>
/// <param name="Pid">The process, as the host's PID namespace numbers it.</param>
/// <param name="Command">Its comm (up to 15 characters). The kernel quotes a plain one (<c>comm="sk"</c>) and writes one
/// with spaces, quotes or control characters in hex, unquoted (<c>comm=6120622063</c>); both come back as the text.</param>
/// <param name="Signal">The signal the action sent (31 = SIGSYS for a kill; 0 for a logged-only action).</param>
/// <param name="Architecture">The AUDIT_ARCH_* value of the call.</param>
/// <param name="Syscall">The system call's number.</param>
/// <param name="Action">The filter's return value (SECCOMP_RET_*).</param>
internal sealed record SeccompAuditRecord(long MonotonicMicroseconds, int Pid, string Command, int Signal, uint Architecture, int Syscall, uint Action)
{
    private const string AuditSeccompType = "type=1326";

    /// <summary>Parses one /dev/kmsg record; null when it is not a well-formed seccomp audit record.</summary>
    public static SeccompAuditRecord? TryParse(string record)
    {
        int semicolon = record.IndexOf(';', StringComparison.Ordinal);
        if (semicolon < 0) return null;
        var prefix = record.AsSpan(0, semicolon);
        // PRIORITY,SEQUENCE,MICROSECONDS,FLAGS[,...]
        int first = prefix.IndexOf(',');
        if (first < 0) return null;
        var rest = prefix[(first + 1)..];
        int second = rest.IndexOf(',');
        if (second < 0) return null;
        rest = rest[(second + 1)..];
        int third = rest.IndexOf(',');
        if (!long.TryParse(third < 0 ? rest : rest[..third], NumberStyles.None, CultureInfo.InvariantCulture, out long micros))
            return null;

        string message = record[(semicolon + 1)..];
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0) message = message[..newline];
        if (!message.Contains(AuditSeccompType, StringComparison.Ordinal)) return null;

        var fields = Fields(message);
        if (!Number(fields, "pid", NumberStyles.None, out int pidValue)) return null;
        if (!Number(fields, "sig", NumberStyles.None, out int sigValue)) return null;
        if (!fields.TryGetValue("arch", out var arch) || !uint.TryParse(arch.Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint archValue)) return null;
        if (!Number(fields, "syscall", NumberStyles.AllowLeadingSign, out int syscallValue)) return null;
        if (!fields.TryGetValue("code", out var code) || !code.Value.StartsWith("0x", StringComparison.Ordinal)
            || !uint.TryParse(code.Value.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint codeValue)) return null;
        string command = fields.TryGetValue("comm", out var comm) ? comm.Quoted ? comm.Value : FromHex(comm.Value) : "";
        return new SeccompAuditRecord(micros, pidValue, command, sigValue, archValue, syscallValue, codeValue);
    }

    private static bool Number(Dictionary<string, (string Value, bool Quoted)> fields, string key, NumberStyles styles, out int value)
    {
        value = 0;
        return fields.TryGetValue(key, out var field) && int.TryParse(field.Value, styles, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>An untrusted string the kernel wrote in hex (two digits a byte); the text itself if it is not hex.</summary>
    private static string FromHex(string value)
    {
        if (value.Length == 0 || value.Length % 2 != 0 || !value.All(char.IsAsciiHexDigit))
            return value;
        return System.Text.Encoding.UTF8.GetString(Convert.FromHexString(value));
    }

    /// <summary>key=value fields, and whether each value was in double quotes (then it may hold spaces).</summary>
    private static Dictionary<string, (string Value, bool Quoted)> Fields(string message)
    {
        var fields = new Dictionary<string, (string Value, bool Quoted)>(StringComparer.Ordinal);
        int i = 0;
        while (i < message.Length)
        {
            while (i < message.Length && message[i] == ' ') i++;
            int keyStart = i;
            while (i < message.Length && message[i] != '=' && message[i] != ' ') i++;
            if (i >= message.Length || message[i] != '=')
            {
                continue;
            }
            string key = message[keyStart..i];
            i++;
            string value;
            bool quoted = i < message.Length && message[i] == '"';
            if (quoted)
            {
                int close = message.IndexOf('"', i + 1);
                if (close < 0) close = message.Length;
                value = message[(i + 1)..close];
                i = Math.Min(close + 1, message.Length);
            }
            else
            {
                int end = message.IndexOf(' ', i);
                if (end < 0) end = message.Length;
                value = message[i..end];
                i = end;
            }
            fields.TryAdd(key, (value, quoted));
        }
        return fields;
    }
}
