using Sandbox.Images.Oci;
using Sandbox.Images.Registry;

namespace Sandbox.Cli;

/// <summary>
/// Shows a pull's layer downloads (or a push's uploads). On a terminal: one line per layer, redrawn in place (at most
/// ten times a second) with bytes so far; otherwise plain lines, one when a layer starts and one when it is
/// <paramref name="finished"/> ("verified" for a pull, "pushed" for a push).
/// </summary>
internal sealed class PullProgressPrinter(TextWriter output, bool terminal, TimeProvider? time = null, string activity = "downloading", string finished = "verified") : IProgress<BlobProgress>
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly List<Digest> _order = [];
    private readonly Dictionary<Digest, BlobProgress> _layers = [];
    private int _drawnLines;
    private long _lastDraw;

    public void Report(BlobProgress value)
    {
        if (MediaTypes.LayerCompressionOf(value.MediaType) is null) return; // configs are small; layers are what takes time
        lock (_lock)
        {
            bool first = !_layers.ContainsKey(value.Digest);
            if (first) _order.Add(value.Digest);
            _layers[value.Digest] = value;
            if (!terminal)
            {
                if (first) output.WriteLine($"{value.Digest.Short}: {activity} {ImageCommandOptions.FormatBytes(value.Size)}");
                if (value.Completed) output.WriteLine($"{value.Digest.Short}: {finished}");
                return;
            }
            long now = _time.GetTimestamp();
            if (!first && !value.Completed && _time.GetElapsedTime(_lastDraw, now) < TimeSpan.FromMilliseconds(100)) return;
            _lastDraw = now;
            Draw();
        }
    }

    /// <summary>One layer's line: its short digest, then bytes so far of the total, or "verified" (or another <paramref name="finished"/>).</summary>
    internal static string FormatLine(BlobProgress layer, string finished = "verified") => layer.Completed
        ? $"{layer.Digest.Short}: {finished} {ImageCommandOptions.FormatBytes(layer.Size)}"
        : $"{layer.Digest.Short}: {ImageCommandOptions.FormatBytes(layer.BytesRead)} / {ImageCommandOptions.FormatBytes(layer.Size)}";

    private void Draw()
    {
        if (_drawnLines > 0) output.Write($"\u001b[{_drawnLines}A");
        foreach (var digest in _order)
            output.Write($"\r\u001b[2K{FormatLine(_layers[digest], finished)}\n");
        _drawnLines = _order.Count;
        output.Flush();
    }
}
