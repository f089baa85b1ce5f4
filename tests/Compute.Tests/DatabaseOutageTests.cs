using Microsoft.Extensions.DependencyInjection;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>
/// Heartbeats that could not be recorded while PostgreSQL was away do not make a live node Down: leases are judged
/// again only once the database has answered for a lease plus the agents' longest retry.
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
    {
        ["Compute:Leases:Duration"] = "00:00:01",
        ["Compute:Leases:DownAfter"] = "00:00:01",
        ["Compute:Leases:MonitorInterval"] = "00:00:00.100",
        // Generous, so the heartbeat after the outage lands inside it on a loaded machine too (judging resumes 1 + 10 s after).
        ["Compute:Leases:AgentRetryMax"] = "00:00:10",
    });

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Compute.ComputeClient Agent(string name) => new(host.Channel(TestInfrastructure.Token(name, "agent")));

    async Task<Node> RegisterAsync(string name) => await Agent(name).RegisterNodeAsync(new RegisterNodeRequest
    {
        NodeId = Guid.NewGuid().ToString(), Name = name, Hostname = name, AgentVersion = "1",
        Capacity = new NodeCapacity { CpuCores = 2, MemoryBytes = 2L << 30 }, Drivers = { new DriverInfo { Name = "process", Available = true } },
    });

    async Task<string> StatusAsync(Node node) => (await new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("viewer", "viewer"))).GetNodeAsync(new GetNodeRequest { NodeId = node.NodeId })).Status;

    async Task<string?> RecordedStatusAsync(Node node)
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(host.ConnectionString);
        await using var read = db.CreateCommand("SELECT status FROM compute.nodes WHERE node_id = $1");
        read.Parameters.Add(new() { Value = Guid.Parse(node.NodeId) });
        return (string?)await read.ExecuteScalarAsync();
    }

    [Fact]
    public async Task A_node_whose_heartbeats_were_lost_to_an_outage_stays_up_when_it_heartbeats_again_within_the_agents_retry()
    {
        var database = host.Services.GetRequiredService<DatabaseAvailability>();
        var node = await RegisterAsync("outage-node");
        await Eventually.HoldsAsync(() => database.SteadyFor(TimeSpan.FromSeconds(4)), "the database has been steady since start");

        // PostgreSQL is away for longer than the lease and the grace period together: no heartbeat is recorded.
        var outageEnds = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < outageEnds)
        {
            database.Broken();
            await Task.Delay(50);
        }
        // Back: the agent's next try lands within its retry (here 2 s of the 10 allowed).
        await Task.Delay(2000);
        await Agent(node.Name).HeartbeatAsync(new HeartbeatRequest { NodeId = node.NodeId });

        Assert.Equal("Ready", await StatusAsync(node));
        Assert.Equal("Ready", await RecordedStatusAsync(node));
    }

    [Fact]
    public async Task A_node_that_stays_silent_after_the_outage_is_judged_Down_once_the_database_has_been_steady_long_enough()
    {
        var database = host.Services.GetRequiredService<DatabaseAvailability>();
        var node = await RegisterAsync("silent-node");
        var outageEnds = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < outageEnds)
        {
            database.Broken();
            await Task.Delay(50);
        }

        Assert.Equal("Ready", await RecordedStatusAsync(node)); // not judged during the outage
        await Eventually.HoldsAsync(async () => await RecordedStatusAsync(node) == "Down", "Down once the database was steady for lease + retry");
    }
}
