using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// A real Redis (Debian's redis-server, configured as the platform's external cache) killed under a running platform
/// and started again empty on the same port: meanwhile the gateway answers (its rate limits counted locally, no 500),
/// writes still commit; afterwards every service is healthy without a restart, the subscriptions are back (a change
/// made while Redis was away reaches its agent), and the revocation list Redis lost is rebuilt by Compute.
/// </summary>
public sealed class CacheRestartTests
{
    [Fact]
    public async Task Redis_restarting_empty_under_a_running_platform_is_survived_and_its_state_rebuilt()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var platform = await PlatformProcess.StartAsync(environment: new Dictionary<string, string> { ["ConnectionStrings__cache"] = redis.ConnectionString });
        using var http = platform.CreateHttpClient();
        using var anonymous = platform.CreateAnonymousHttpClient();

        var nodes = JsonDocument.Parse(await http.GetStringAsync("/api/compute/nodes")).RootElement.GetProperty("nodes").EnumerateArray()
            .OrderBy(n => n.GetProperty("name").GetString()).ToList();
        var rejected = nodes[1];
        var agent = rejected.GetProperty("name").GetString()!;
        (await http.PostAsync($"/api/compute/nodes/{rejected.GetProperty("nodeId").GetString()}/reject", System.Net.Http.Json.JsonContent.Create(new { reason = "compromised" }))).EnsureSuccessStatusCode();
        // Each gateway remembers an answer for two seconds.
        await TestSupport.Eventually.HoldsAsync(async () => await ExchangeStatusAsync(platform, agent) == HttpStatusCode.Unauthorized, "the rejected agent refused");

        redis.Kill();
        for (var i = 0; i < 10; i++)
        {
            using var listed = await http.GetAsync("/api/compute/nodes");
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }
        var madeMeanwhile = (await WorkloadTests.CreateAsync(http, "made-while-redis-was-away", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        await TestSupport.Eventually.HoldsAsync(async () => (await anonymous.GetAsync("/health")).StatusCode == HttpStatusCode.ServiceUnavailable, "/health says the cache is away");

        await redis.StartAgainAsync();
        await TestSupport.Eventually.HoldsAsync(async () => (await anonymous.GetAsync("/health")).IsSuccessStatusCode, "every service healthy again", TimeSpan.FromSeconds(60));
        await TestSupport.Eventually.HoldsAsync(async () => await ExchangeStatusAsync(platform, agent) == HttpStatusCode.Unauthorized,
            "the rejected agent refused again once Compute rebuilt the revocation list", TimeSpan.FromSeconds(60));
        await WorkloadTests.WaitForAsync(http, madeMeanwhile, "active");
        var madeAfter = (await WorkloadTests.CreateAsync(http, "made-after-redis-came-back", "exec sleep 600")).GetProperty("workloadId").GetString()!;
        await WorkloadTests.WaitForAsync(http, madeAfter, "active");
        Assert.DoesNotContain("Unhandled exception", platform.Output);
    }

    static async Task<HttpStatusCode> ExchangeStatusAsync(PlatformProcess platform, string agent)
    {
        var environment = platform.EnvironmentOf(agent);
        using var http = platform.CreateAnonymousHttpClient();
        using var response = await http.PostAsync("/api/auth/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = environment["Auth__ClientId"], ["client_secret"] = environment["Auth__ClientSecret"],
            ["audience"] = "platform",
        }));
        return response.StatusCode;
    }

    /// <summary>Debian's redis-server on a free loopback port with a password, keeping nothing on disk.</summary>
    sealed class RedisServer : IAsyncDisposable
    {
        readonly int port;
        readonly string password = Guid.NewGuid().ToString("N");
        Process? process;

        RedisServer(int port) => this.port = port;

        public string ConnectionString => $"127.0.0.1:{port},password={password}";

        public static async Task<RedisServer> StartAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            var server = new RedisServer(port);
            await server.StartAgainAsync();
            return server;
        }

        public async Task StartAgainAsync()
        {
            process = Process.Start(new ProcessStartInfo("redis-server",
                ["--bind", "127.0.0.1", "--port", port.ToString(), "--requirepass", password, "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath()])
            {
                RedirectStandardOutput = true,
            })!;
            process.OutputDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            await TestSupport.Eventually.HoldsAsync(() =>
            {
                if (process.HasExited) throw new InvalidOperationException($"redis-server exited with {process.ExitCode} (port {port} taken meanwhile?)");
                return Answers();
            }, "redis-server answering AUTH and PING");
        }

        /// <summary>Our server, not whatever else may listen there: it knows the password.</summary>
        bool Answers()
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                var stream = client.GetStream();
                stream.Write(System.Text.Encoding.ASCII.GetBytes($"AUTH {password}\r\nPING\r\n"));
                var answer = new byte[64];
                var read = 0;
                while (read < 12 && stream.Read(answer, read, answer.Length - read) is var n && n > 0) read += n;
                return System.Text.Encoding.ASCII.GetString(answer, 0, read).StartsWith("+OK\r\n+PONG", StringComparison.Ordinal);
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                return false;
            }
        }

        public void Kill()
        {
            process!.Kill();
            process.WaitForExit();
        }

        public ValueTask DisposeAsync()
        {
            if (process is { HasExited: false }) Kill();
            return ValueTask.CompletedTask;
        }
    }
}
