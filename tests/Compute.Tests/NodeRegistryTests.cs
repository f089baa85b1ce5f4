using Microsoft.Extensions.DependencyInjection;
using System.Net;
using System.Text.Json;
using Grpc.Core;
using Npgsql;
using Platform.Compute.V1;
using Platform.TestSupport;

namespace Platform.Compute.Tests;

/// <summary>Compute's node registry over a real PostgreSQL and Garnet, through gRPC and REST.</summary>
public sealed class NodeRegistryTests : IAsyncLifetime
{
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync() => host = await ServiceHost<Program>.StartAsync();

    public async Task DisposeAsync() => await host.DisposeAsync();

    V1.Compute.ComputeClient Client(string name) => new(host.Channel(TestInfrastructure.Token(name, "agent")));

    static RegisterNodeRequest Registration(string name, Guid? id = null) => new()
    {
        NodeId = (id ?? Guid.NewGuid()).ToString(),
        Name = name,
        Hostname = "host-a",
        Addresses = { "10.1.2.3" },
        Capacity = new NodeCapacity { CpuCores = 8, MemoryBytes = 16L << 30, GpuCount = 1, DiskBytes = 500L << 30 },
        Labels = { ["zone"] = "a" },
        AgentVersion = "1.2.3",
    };

    [Fact]
    public async Task A_registered_node_is_listed_Ready_with_its_capacity_over_REST()
    {
        var node = await Client("node-a").RegisterNodeAsync(Registration("node-a"));

        using var response = await host.Http().GetAsync("/api/compute/nodes");
        response.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var listed = json.RootElement.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("nodeId").GetString() == node.NodeId);

        Assert.Equal("Ready", listed.GetProperty("status").GetString());
        Assert.Equal(8, listed.GetProperty("capacity").GetProperty("cpuCores").GetInt32());
        // proto3 JSON: 64-bit integers are strings, so a browser never rounds them.
        Assert.Equal((16L << 30).ToString(), listed.GetProperty("capacity").GetProperty("memoryBytes").GetString());
        Assert.Equal("a", listed.GetProperty("labels").GetProperty("zone").GetString());
    }

    [Fact]
    public async Task The_seed_path_api_nodes_lists_the_same_nodes()
    {
        var node = await Client("node-seed").RegisterNodeAsync(Registration("node-seed"));

        var body = await host.Http().GetStringAsync("/api/nodes");

        Assert.Contains(node.NodeId, body);
    }

    [Fact]
    public async Task Registering_again_with_the_same_id_updates_the_node_instead_of_adding_one()
    {
        var id = Guid.NewGuid();
        var client = Client("node-b");
        await client.RegisterNodeAsync(Registration("node-b", id));
        var again = Registration("node-b", id);
        again.Capacity.CpuCores = 16;

        var node = await client.RegisterNodeAsync(again);
        var all = await new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("ann", "viewer"))).ListNodesAsync(new ListNodesRequest());

        Assert.Equal(16, node.Capacity.CpuCores);
        Assert.Single(all.Nodes, n => n.NodeId == id.ToString());
    }

    [Fact]
    public async Task Heartbeat_renews_the_lease_and_an_unknown_node_is_NotFound()
    {
        var client = Client("node-c");
        var node = await client.RegisterNodeAsync(Registration("node-c"));
        await Task.Delay(20);

        var renewed = await client.HeartbeatAsync(new HeartbeatRequest { NodeId = node.NodeId });
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.HeartbeatAsync(new HeartbeatRequest { NodeId = Guid.NewGuid().ToString() }).ResponseAsync);

        Assert.True(renewed.LeaseExpiresAtMs > node.LeaseExpiresAtMs);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_name_held_by_another_node_is_refused_with_409()
    {
        await Client("node-d").RegisterNodeAsync(Registration("node-d"));

        using var response = await host.Http(TestInfrastructure.Token("node-d", "agent"))
            .PostAsync("/api/compute/nodes", Json(Registration("node-d")));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task Bad_registration_names_every_bad_field_with_400_and_stores_nothing()
    {
        var request = Registration("Bad Name!");
        request.NodeId = "not-a-uuid";
        request.Capacity.CpuCores = 0;

        using var response = await host.Http(TestInfrastructure.Token("x", "agent")).PostAsync("/api/compute/nodes", Json(request));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("node_id", body);
        Assert.Contains("name", body);
        Assert.Contains("capacity.cpu_cores", body);
        Assert.Equal(0L, await CountNodesAsync());
    }

    [Fact]
    public async Task Unknown_node_over_REST_is_404_and_a_malformed_id_is_400()
    {
        using var missing = await host.Http().GetAsync($"/api/compute/nodes/{Guid.NewGuid()}");
        using var malformed = await host.Http().GetAsync("/api/compute/nodes/nope");

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task Only_agents_register_nodes()
    {
        var asViewer = new V1.Compute.ComputeClient(host.Channel(TestInfrastructure.Token("ann", "viewer")));
        var anonymous = new V1.Compute.ComputeClient(host.AnonymousChannel());

        var denied = await Assert.ThrowsAsync<RpcException>(() => asViewer.RegisterNodeAsync(Registration("node-e")).ResponseAsync);
        var unauthenticated = await Assert.ThrowsAsync<RpcException>(() => anonymous.RegisterNodeAsync(Registration("node-f")).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, denied.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, unauthenticated.StatusCode);
    }

    [Fact]
    public async Task Rejecting_a_node_revokes_its_agent_everywhere_and_admitting_it_restores_it()
    {
        var name = $"node-r{Guid.NewGuid():N}"[..16];
        var node = await Client(name).RegisterNodeAsync(Registration(name));
        var admin = new V1.Compute.ComputeClient(host.Channel());
        var revocations = host.Services.GetRequiredService<Platform.ServiceDefaults.Auth.AgentRevocations>();

        await admin.RejectNodeAsync(new NodeActionRequest { NodeId = node.NodeId, Reason = "unknown machine" });
        var revoked = await revocations.IsRevokedAsync(name);
        var heartbeat = await Assert.ThrowsAsync<RpcException>(() => Client(name).HeartbeatAsync(new HeartbeatRequest { NodeId = node.NodeId }).ResponseAsync);
        await admin.AdmitNodeAsync(new NodeActionRequest { NodeId = node.NodeId });
        var restored = !await revocations.IsRevokedAsync(name);

        Assert.True(revoked);
        Assert.Equal(StatusCode.PermissionDenied, heartbeat.StatusCode);
        Assert.True(restored);
        await Client(name).HeartbeatAsync(new HeartbeatRequest { NodeId = node.NodeId });
    }

    [Fact]
    public async Task An_agent_acts_only_for_its_own_node()
    {
        var victim = await Client("node-v").RegisterNodeAsync(Registration("node-v"));
        var intruder = Client("node-i");
        var assignments = new WorkloadAssignments.WorkloadAssignmentsClient(host.Channel(TestInfrastructure.Token("node-i", "agent")));

        var register = await Assert.ThrowsAsync<RpcException>(() => intruder.RegisterNodeAsync(Registration("node-v", Guid.Parse(victim.NodeId))).ResponseAsync);
        var heartbeat = await Assert.ThrowsAsync<RpcException>(() => intruder.HeartbeatAsync(new HeartbeatRequest { NodeId = victim.NodeId }).ResponseAsync);
        var list = await Assert.ThrowsAsync<RpcException>(() => assignments.ListAssignmentsAsync(new ListAssignmentsRequest { NodeId = victim.NodeId }).ResponseAsync);
        var report = await Assert.ThrowsAsync<RpcException>(() => assignments.ReportWorkloadsAsync(new ReportWorkloadsRequest { NodeId = victim.NodeId }).ResponseAsync);

        // Its own name with the victim's id (an id a migration order names): the id keeps its name.
        var takeover = await Assert.ThrowsAsync<RpcException>(() => intruder.RegisterNodeAsync(Registration("node-i", Guid.Parse(victim.NodeId))).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, takeover.StatusCode);
        Assert.All([register, heartbeat, list, report], e => Assert.Equal(StatusCode.PermissionDenied, e.StatusCode));
        Assert.Contains("node-i", register.Status.Detail);
        // Nothing of the victim changed: its address and lease are its own.
        var after = await new V1.Compute.ComputeClient(host.Channel()).GetNodeAsync(new GetNodeRequest { NodeId = victim.NodeId });
        Assert.Equal((victim.Name, victim.AgentUrl, victim.LeaseExpiresAtMs), (after.Name, after.AgentUrl, after.LeaseExpiresAtMs));
    }

    [Fact]
    public async Task An_expired_forged_or_missing_token_is_rejected_with_401_on_a_read()
    {
        var past = new FixedClock(DateTimeOffset.UtcNow.AddHours(-3));
        var expired = TestInfrastructure.Token("ann", "viewer", TimeSpan.FromHours(1), past);
        // Signed by a key of its own: anyone can make an ES256 key, only the issuer's is trusted.
        var forged = TestTokens.Issue("ann", "admin", key: new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(
            System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256)) { KeyId = "test" });

        using var withExpired = await host.Http(expired).GetAsync("/api/compute/nodes");
        using var withForged = await host.Http(forged).GetAsync("/api/compute/nodes");
        using var without = await host.AnonymousHttp().GetAsync("/api/compute/nodes");

        Assert.Equal(HttpStatusCode.Unauthorized, withExpired.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withForged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
    }

    async Task<long> CountNodesAsync()
    {
        await using var connection = new NpgsqlConnection(host.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM compute.nodes", connection);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    static StringContent Json(RegisterNodeRequest request) =>
        new(Google.Protobuf.JsonFormatter.Default.Format(request), System.Text.Encoding.UTF8, "application/json");

    sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
