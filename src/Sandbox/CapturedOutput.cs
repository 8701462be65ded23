using System.Text;

namespace Sandbox;

/// <summary>
/// One output stream as <see cref="SandboxSpec.RunAsync"/> saw it: captured up to the output limit, or forwarded to a
/// stream (<see cref="SandboxSpec.WithOutputForwarding"/>) up to the same limit.
/// </summary>
/// <param name="Bytes">The bytes kept (at most the limit); empty when the stream was forwarded.</param>
/// <param name="TotalBytes">How many bytes the program wrote in all (as far as they were read: a killed sandbox's last bytes may not be).</param>
public sealed record CapturedOutput(ReadOnlyMemory<byte> Bytes, long TotalBytes)
{
    /// <summary>Nothing captured (a stream that was inherited or not read).</summary>
    public static CapturedOutput None { get; } = new(ReadOnlyMemory<byte>.Empty, 0);

    /// <summary>How many bytes were written to the forwarding stream (at most the limit); null when the stream was captured, not forwarded.</summary>
    public long? ForwardedBytes { get; init; }

    /// <summary>Whether the stream was forwarded rather than captured.</summary>
    public bool Forwarded => ForwardedBytes is not null;

    /// <summary>How many bytes reached their destination: the captured <see cref="Bytes"/>, or <see cref="ForwardedBytes"/>.</summary>
    public long KeptBytes => ForwardedBytes ?? Bytes.Length;

    /// <summary>Whether bytes were dropped because the limit was reached (or, forwarding, because the target stopped taking them).</summary>
    public bool Truncated => TotalBytes > KeptBytes;

    /// <summary>The kept bytes as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    /// <inheritdoc />
    public override string ToString() => Text;
}
