using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sandbox.IntegrationTests.Images;

/// <summary>
/// A real registry (Debian's docker-registry, the CNCF distribution server) on 127.0.0.1 and a free port, with its own
/// config and storage in a temporary directory; killed and removed on dispose. <paramref name="authSection"/> is
/// YAML placed under <c>auth:</c> (null: no auth).
/// </summary>
internal sealed class LocalRegistry : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private LocalRegistry(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>host:port, as it appears in references.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public static async Task<LocalRegistry> StartAsync(string? authSection = null)
    {
        string binary = File.Exists("/usr/bin/docker-registry") ? "/usr/bin/docker-registry"
            : throw new InvalidOperationException("docker-registry is not installed (test.sh installs it: apt-get install docker-registry).");
        string directory = Directory.CreateTempSubdirectory("sandbox-registry-").FullName;
        int port = FreePort();
        string config = Path.Combine(directory, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            {(authSection is null ? "" : "auth:\n" + string.Join('\n', authSection.Split('\n').Select(l => "  " + l)))}
            """);
        var start = new ProcessStartInfo(binary) { ArgumentList = { "serve", config }, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var process = Process.Start(start)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var registry = new LocalRegistry(process, directory, port);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                registry.Dispose();
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}: {log}");
            }
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized) return registry;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                registry.Dispose();
                throw new TimeoutException($"docker-registry did not answer on port {port} within 30 s: {log}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Pushes the OCI layout's tag to <c>127.0.0.1:PORT/REPOSITORY:TAG</c> with skopeo (plain HTTP).</summary>
    public void Push(string layout, string tag, string repository) =>
        BusyboxLayout.Run("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false", $"oci:{layout}:{tag}", $"docker://{Host}/{repository}:{tag}");

    internal static int FreePort()
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
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
