extern alias telemetry;

using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Metrics;
using Platform.Telemetry.V1;
using Platform.TestSupport;
using TelemetryProgram = telemetry::Program;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// The real shipper, reading this machine's /proc, streaming to a real Telemetry over a real PostgreSQL — which is
/// cut off and replaced by a fresh instance in the middle of a sustained ingest.
/// </summary>
public sealed class MetricShipperTests : IAsyncLifetime
{
    readonly string stateFolder = Directory.CreateTempSubdirectory("agent-").FullName;
    readonly SwitchableHandler network = new();
    ServiceHost<TelemetryProgram> telemetryHost = null!;

    public async Task InitializeAsync()
    {
        telemetryHost = await ServiceHost<TelemetryProgram>.StartAsync();
        network.Target = telemetryHost.Server.CreateHandler();
    }

    public async Task DisposeAsync()
    {
        await telemetryHost.DisposeAsync();
        Directory.Delete(stateFolder, recursive: true);
    }

    [Fact]
    public async Task Samples_sent_equal_samples_stored_without_duplicates_across_a_Telemetry_restart()
    {
        var identity = new NodeIdentity(Guid.NewGuid(), "node-k", "host", stateFolder, "test");
        var pending = new PendingBatches(capacity: 10_000, Path.Combine(stateFolder, "pending"));
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://telemetry", new() { HttpHandler = new BearerHandler(TestInfrastructure.Token("node-k", "agent")) { InnerHandler = network } });
        var shipper = new MetricShipper(
            new MetricIngestion.MetricIngestionClient(channel), identity,
            Options.Create(new NodeAgentOptions { MetricsInterval = TimeSpan.FromMilliseconds(50) }),
            pending, TimeProvider.System, NullLogger<MetricShipper>.Instance);

        await shipper.StartAsync(CancellationToken.None);
        await WaitForStoredAsync(telemetryHost.ConnectionString, atLeast: 150);

        // Telemetry dies mid-stream: in-flight calls are cut, then a new instance starts on the same database.
        network.Cut();
        await telemetryHost.DisposeAsync();
        await Task.Delay(500);
        Assert.True(pending.Count > 0, "batches accumulate while Telemetry is down");
        telemetryHost = await ServiceHost<TelemetryProgram>.StartOnAsync(telemetryHost.ConnectionString);
        network.Target = telemetryHost.Server.CreateHandler();
        var before = await CountAsync(telemetryHost.ConnectionString);
        await WaitForStoredAsync(telemetryHost.ConnectionString, atLeast: before + 150);

        await shipper.StopAsync(CancellationToken.None); // collection ends, the shipper drains what is pending

        Assert.Equal(0, pending.Count);
        Assert.Equal(pending.SamplesAdded, await CountAsync(telemetryHost.ConnectionString));
        Assert.Equal(0L, await DuplicatesAsync(telemetryHost.ConnectionString));
    }

    [Fact]
    public async Task Batches_over_the_agents_series_budget_are_dropped_and_counted_never_resent_forever()
    {
        await using var strict = await ServiceHost<TelemetryProgram>.StartAsync(new Dictionary<string, string> { ["Telemetry:Limits:MaxSeriesPerAgent"] = "1" });
        var pending = new PendingBatches(capacity: 10_000);
        var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://telemetry", new() { HttpHandler = new BearerHandler(TestInfrastructure.Token("node-w", "agent")) { InnerHandler = strict.Server.CreateHandler() } });
        var shipper = new MetricShipper(
            new MetricIngestion.MetricIngestionClient(channel), new NodeIdentity(Guid.NewGuid(), "node-w", "host", stateFolder, "test"),
            Options.Create(new NodeAgentOptions { MetricsInterval = TimeSpan.FromMilliseconds(50) }),
            pending, TimeProvider.System, NullLogger<MetricShipper>.Instance);

        await shipper.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (pending.Refused < 5 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await shipper.StopAsync(CancellationToken.None);

        // Every batch of this machine's counters has more than one series: each is refused once, dropped and counted.
        Assert.True(pending.Refused >= 5, $"{pending.Refused} batches refused within 60 s");
        Assert.Equal(0, pending.Count);
        Assert.Equal(0L, await CountAsync(strict.ConnectionString));
    }

    static async Task WaitForStoredAsync(string connectionString, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await CountAsync(connectionString) < atLeast)
        {
            Assert.True(DateTime.UtcNow < deadline, $"fewer than {atLeast} samples stored within 60 s");
            await Task.Delay(50);
        }
    }

    static async Task<long> CountAsync(string connectionString) =>
        await ScalarAsync(connectionString, "SELECT count(*) FROM telemetry.samples");

    static async Task<long> DuplicatesAsync(string connectionString) =>
        await ScalarAsync(connectionString, "SELECT count(*) - count(DISTINCT (series_id, time)) FROM telemetry.samples");

    static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The network between agent and Telemetry: it can be pointed at another server, and cut.</summary>
    sealed class SwitchableHandler : HttpMessageHandler
    {
        CancellationTokenSource link = new();
        public HttpMessageHandler Target { get; set; } = null!;

        public void Cut()
        {
            var old = link;
            link = new CancellationTokenSource();
            old.Cancel();
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, link.Token);
            var invoker = new HttpMessageInvoker(Target, disposeHandler: false);
            return await invoker.SendAsync(request, linked.Token);
        }
    }
}
