using Sandbox;

// 1. Run a command to completion and read what it printed. Every namespace, a read-only root made of the
//    host's /usr, /bin, /lib..., no network but loopback, no capabilities: the defaults.
var hello = await SandboxSpec.Command("/bin/sh", "-c", "echo hello from $(hostname) as $(id -un)")
    .RunAsync();
Console.WriteLine($"[1] {hello.Outcome}: {hello.StandardOutput.Text.Trim()} ({hello.WallTime.TotalMilliseconds:F1} ms)");

// 2. What the program did is a result, not an exception: a failing program, a signal, a timeout.
var failing = await SandboxSpec.Command("/bin/sh", "-c", "echo oops >&2; exit 3").RunAsync();
Console.WriteLine($"[2] {failing.Outcome}, exit code {failing.ExitCode}, stderr '{failing.StandardError.Text.Trim()}'");

var slow = await SandboxSpec.Command("/bin/sleep", "10")
    .WithWallTimeLimit(TimeSpan.FromMilliseconds(300))
    .RunAsync();
Console.WriteLine($"[2] {slow.Outcome} after {slow.WallTime.TotalMilliseconds:F0} ms");

// 3. Give the program data: stdin, environment, a read-only bind of a host directory, a scratch tmpfs.
// As root the sandbox user is mapped to the host's nobody, so the directory must be readable by others.
var data = Directory.CreateTempSubdirectory("sandbox-basic-");
File.SetUnixFileMode(data.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
await File.WriteAllTextAsync(Path.Combine(data.FullName, "numbers.txt"), "3\n1\n2\n");
var sorted = await SandboxSpec.Command("/bin/sh", "-c", "sort -n /data/numbers.txt; echo \"GREETING=$GREETING\"; cat")
    .AddReadOnlyBind(data.FullName, "/data")
    .AddTmpfs("/scratch", 16 << 20)
    .WithEnvironmentVariable("GREETING", "hi")
    .WithStandardInput("from stdin\n")
    .RunAsync();
Console.WriteLine($"[3] {sorted.Outcome}:\n{sorted.StandardOutput.Text}{sorted.StandardError.Text}");
data.Delete(recursive: true);

// 4. Stream: start it, talk to it, stop it. Disposing kills whatever is left.
await using (var running = await SandboxSpec.Command("/bin/cat").StartAsync())
{
    await running.StandardInput.WriteAsync("ping\n"u8.ToArray());
    await running.StandardInput.DisposeAsync();
    using var reader = new StreamReader(running.StandardOutput);
    Console.WriteLine($"[4] pid {running.Pid} echoed '{(await reader.ReadLineAsync())?.Trim()}'");
    var result = await running.WaitAsync();
    Console.WriteLine($"[4] {result.Outcome}");
}

// 5. Our own failures are exceptions that name the stage, errno, path and fix.
try
{
    await SandboxSpec.Command("/bin/true").AddReadOnlyBind("/does/not/exist", "/data").RunAsync();
}
catch (SandboxSetupException e)
{
    Console.WriteLine($"[5] {e.Stage} {e.ErrnoName} {e.Path}\n    fix: {e.Fix}");
}

// 6. What isolation was applied is part of every result.
var i = hello.Isolation;
Console.WriteLine($"[6] namespaces={i.Namespaces} rootless={i.Rootless} uid_map='{i.UidMap}' network={i.Network} readOnlyRoot={i.ReadOnlyRoot}");
