namespace Sandbox.IntegrationTests.Support;

/// <summary>Reads a started sandbox's standard output line by line, with a deadline so that a test never hangs.</summary>
internal sealed class LineReader(Stream stream)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly StreamReader _reader = new(stream, leaveOpen: true);

    /// <summary>The next line; fails at end of stream or after the deadline.</summary>
    public async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(Deadline);
        return await _reader.ReadLineAsync(timeout.Token) ?? throw new EndOfStreamException("The sandboxed program closed its output.");
    }

    /// <summary>The next <paramref name="count"/> lines.</summary>
    public async Task<string[]> ReadLinesAsync(int count)
    {
        var lines = new string[count];
        for (int i = 0; i < count; i++)
            lines[i] = await ReadLineAsync();
        return lines;
    }
}
