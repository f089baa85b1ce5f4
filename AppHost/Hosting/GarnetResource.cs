using System.Net.Sockets;
using System.Text;
using Garnet;

namespace Platform.AppHost.Hosting;

/// <summary>
/// The Redis-protocol cache: Microsoft Garnet embedded in the AppHost process, on a free loopback port, so nothing has
/// to be installed, with a password made at each start (a workload on the node that reaches the port gets NOAUTH).
/// With <c>ConnectionStrings__cache</c> configured, that server is used instead and nothing starts.
/// </summary>
public sealed class GarnetResource(string name, string? externalConnectionString) : Resource(name), IResourceWithConnectionString
{
    GarnetServer? server;
    readonly string password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();

    public int Port { get; private set; }

    public string ConnectionString => externalConnectionString ?? $"127.0.0.1:{Port},password={password}";

    public override async Task StartAsync(RunContext run, CancellationToken cancellationToken)
    {
        if (externalConnectionString is not null)
        {
            State = ResourceState.External;
            return;
        }
        State = ResourceState.Starting;
        Port = Ports.Free();
        try
        {
            // Lua: the gateway's rate limits and realtime ids run as scripts, atomically (Garnet's transaction mode), as on Redis.
            server = new GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(), "--index", "16m", "--memory", "256m", "--lua",
                "--lua-transaction-mode", "--auth", "Password", "--password", password]);
            server.Start();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new AppHostException($"{Name}: Garnet did not start: {ex.Message}");
        }
        await PingAsync(cancellationToken);
        State = ResourceState.Running;
    }

    async Task PingAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nAUTH\r\n${password.Length}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n"), cancellationToken);
        var answer = new StringBuilder();
        var buffer = new byte[64];
        while (!answer.ToString().Contains("+PONG", StringComparison.Ordinal) && !answer.ToString().Contains('-'))
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0) break;
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        if (!answer.ToString().StartsWith("+OK\r\n+PONG", StringComparison.Ordinal))
            throw new AppHostException($"{Name}: Garnet did not answer AUTH and PING: {answer.ToString().Trim()}");
    }

    public override Task StopAsync()
    {
        server?.Dispose();
        server = null;
        State = ResourceState.Stopped;
        return Task.CompletedTask;
    }

    public override string Describe() => externalConnectionString is not null ? "external (ConnectionStrings__cache)" : $"redis://127.0.0.1:{Port} (embedded Garnet)";
}
