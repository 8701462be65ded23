using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;

namespace Sandbox.Images.Registry;

/// <summary>
/// A <c>WWW-Authenticate</c> challenge (RFC 7235): its scheme (<c>Bearer</c>, <c>Basic</c>) and parameters
/// (<c>realm</c>, <c>service</c>, <c>scope</c>), values quoted or bare.
/// </summary>
/// <param name="Scheme">The scheme, as sent.</param>
/// <param name="Parameters">The parameters, names compared without case.</param>
public sealed record AuthenticationChallenge(string Scheme, ImmutableDictionary<string, string> Parameters)
{
    /// <summary>True for the Bearer scheme.</summary>
    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);

    /// <summary>The token endpoint.</summary>
    public string? Realm => Parameters.GetValueOrDefault("realm");

    /// <summary>The service the token is for.</summary>
    public string? Service => Parameters.GetValueOrDefault("service");

    /// <summary>The scope asked for (e.g. <c>repository:library/busybox:pull</c>).</summary>
    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>Parses one challenge: <c>Scheme k1="v1",k2=v2</c>. False if the text is not one.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out AuthenticationChallenge? challenge)
    {
        challenge = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        string t = text.Trim();
        int space = t.IndexOf(' ');
        string scheme = space < 0 ? t : t[..space];
        if (scheme.Length == 0 || scheme.Contains('=')) return false;
        var parameters = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.OrdinalIgnoreCase);
        int i = space < 0 ? t.Length : space + 1;
        while (i < t.Length)
        {
            while (i < t.Length && (t[i] == ' ' || t[i] == ',')) i++;
            if (i >= t.Length) break;
            int eq = t.IndexOf('=', i);
            if (eq < 0) return false;
            string name = t[i..eq].Trim();
            if (name.Length == 0) return false;
            i = eq + 1;
            string value;
            if (i < t.Length && t[i] == '"')
            {
                var builder = new System.Text.StringBuilder();
                i++;
                while (i < t.Length && t[i] != '"')
                {
                    if (t[i] == '\\' && i + 1 < t.Length) i++;
                    builder.Append(t[i++]);
                }
                if (i >= t.Length) return false; // unterminated quote
                i++;
                value = builder.ToString();
            }
            else
            {
                int end = t.IndexOf(',', i);
                if (end < 0) end = t.Length;
                value = t[i..end].Trim();
                i = end;
            }
            parameters[name] = value;
        }
        challenge = new AuthenticationChallenge(scheme, parameters.ToImmutable());
        return true;
    }
}
