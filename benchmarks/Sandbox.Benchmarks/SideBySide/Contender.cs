namespace Sandbox.Benchmarks.SideBySide;

/// <summary>One way of running /bin/true to completion.</summary>
/// <param name="Name">The short name used in tables.</param>
/// <param name="Command">Exactly what runs, for the report.</param>
/// <param name="RunOnce">Runs it once, to a reaped exit; throws unless it succeeded.</param>
internal sealed record Contender(string Name, string Command, Func<ValueTask> RunOnce);
