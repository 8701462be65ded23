using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sandbox.Benchmarks.Images;

/// <summary>
/// Debian's docker-registry (the CNCF distribution server) on 127.0.0.1 and a free port, plain HTTP, storage in
/// <paramref name="directory"/>; killed on dispose. The same way the integration tests start it; the benchmark installs
/// nothing (benchmarks/README.md says how to get it).
/// </summary>
internal sealed class LoopbackRegistry : IDisposable
{
    private const string Binary = "/usr/bin/docker-registry";

    private readonly Process _process;

    private LoopbackRegistry(Process process, int port)
    {
        _process = process;
        Host = $"127.0.0.1:{port}";
    }

    /// <summary>host:port, as it appears in references.</summary>
    public string Host { get; }

    public static async Task<LoopbackRegistry> StartAsync(string directory)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException("docker-registry is not installed: apt-get install docker-registry (test.sh installs it).");
        int port = FreePort();
        string config = Path.Combine(directory, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
            http:
              addr: 127.0.0.1:{port}
            """);
        var process = Process.Start(new ProcessStartInfo(Binary) { ArgumentList = { "serve", config }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LoopbackRegistry(process, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                registry.Dispose();
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri($"http://{registry.Host}/v2/")).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK) return registry;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                registry.Dispose();
                throw new TimeoutException($"docker-registry did not answer on {registry.Host} within 30 s");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
