using System.Text;

namespace Sandbox;

/// <summary>One output stream as captured by <see cref="SandboxSpec.RunAsync"/>, up to the output limit.</summary>
/// <param name="Bytes">The bytes kept (at most the limit).</param>
/// <param name="TotalBytes">How many bytes the program wrote in all.</param>
public sealed record CapturedOutput(ReadOnlyMemory<byte> Bytes, long TotalBytes)
{
    /// <summary>Nothing captured (a stream that was inherited or not read).</summary>
    public static CapturedOutput None { get; } = new(ReadOnlyMemory<byte>.Empty, 0);

    /// <summary>Whether bytes were dropped because the limit was reached.</summary>
    public bool Truncated => TotalBytes > Bytes.Length;

    /// <summary>The kept bytes as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    /// <inheritdoc />
    public override string ToString() => Text;
}
