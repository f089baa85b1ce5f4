using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Platform.Onion;
using Platform.Onion.Directory;
using Platform.Privacy.V1;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>Deploying relays, what the directory believes of a descriptor, and the consensus it signs.</summary>
public sealed class DirectoryTests : IAsyncLifetime
{
    PrivacyWorld world = null!;

    public async Task InitializeAsync() => world = await PrivacyWorld.StartAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    static async Task<StatusCode> RefusedAsync<T>(Func<AsyncUnaryCall<T>> call) => (await Assert.ThrowsAsync<RpcException>(() => call().ResponseAsync)).StatusCode;

    [Fact]
    public async Task Deploy_enables_a_chosen_node_or_the_best_one_without_a_relay_and_refuses_bad_input_by_field()
    {
        await world.AddNodeAsync("node-a", cores: 2);
        await world.AddNodeAsync("node-b", cores: 8);
        await world.AddNodeAsync("node-c", cores: 4);
        var operatorClient = world.As("olga", "operator");

        var chosen = await operatorClient.DeployRelayAsync(new DeployRelayRequest { Node = "node-a", ExitPolicy = { "reject *:*" } });
        Assert.Equal(("node-a", false, true), (chosen.Relay.Node, chosen.Chosen, chosen.Relay.Enabled));
        Assert.Equal("olga", chosen.Relay.EnabledBy);
        var best = await operatorClient.DeployRelayAsync(new DeployRelayRequest());
        Assert.Equal(("node-b", true), (best.Relay.Node, best.Chosen));
        Assert.Equal(ExitPolicy.Default, best.Relay.ExitPolicy);
        Assert.Equal("node-c", (await operatorClient.DeployRelayAsync(new DeployRelayRequest())).Relay.Node);
        Assert.Equal(StatusCode.Aborted, await RefusedAsync(() => operatorClient.DeployRelayAsync(new DeployRelayRequest())));

        // Over REST: a bad exit policy is a 400 naming the rule; an unknown node a 404; a viewer may not deploy.
        using var http = world.Privacy.Http(TestInfrastructure.Token("olga", "operator"));
        var bad = await http.PostAsJsonAsync("/api/betanet/deploy", new { node = "node-a", exitPolicy = new[] { "accept *:*", "allow 10.0.0.0/8:*" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("exit_policy[1]", await bad.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsJsonAsync("/api/betanet/deploy", new { node = "node-z" })).StatusCode);
        using var viewer = world.Privacy.Http(TestInfrastructure.Token("vic", "viewer"));
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/betanet/deploy", new { })).StatusCode);

        var retired = await operatorClient.RetireRelayAsync(new RetireRelayRequest { Node = "node-c" });
        Assert.False(retired.Relay.Enabled);
        Assert.False((await world.Agent("node-c").GetRelayRoleAsync(new GetRelayRoleRequest())).Enabled);
        Assert.True((await world.Agent("node-a").GetRelayRoleAsync(new GetRelayRoleRequest())).Enabled);
        Assert.Equal(StatusCode.NotFound, await RefusedAsync(() => operatorClient.RetireRelayAsync(new RetireRelayRequest { Node = "node-q" })));
    }

    [Fact]
    public async Task A_descriptor_is_stored_only_when_signed_fresh_newer_and_published_by_its_own_nodes_agent()
    {
        await world.AddNodeAsync("node-a");
        await world.AddNodeAsync("node-b");
        await world.As("olga", "operator").DeployRelayAsync(new DeployRelayRequest { Node = "node-a" });
        var relay = await world.StartRelayAsync("node-a", ExitPolicy.Default);
        var descriptor = PrivacyWorld.Descriptor(relay, "node-a", ExitPolicy.Default);

        var signed = descriptor.Sign(relay.Identity);
        Assert.Equal(StatusCode.PermissionDenied, await RefusedAsync(() => world.Agent("node-b").PublishDescriptorAsync(new() { Body = signed.Body, Signature = signed.Signature })));
        var forged = (descriptor with { Port = 1 }).Sign(RelayIdentity.Create());
        var error = await Assert.ThrowsAsync<RpcException>(() => world.Agent("node-a").PublishDescriptorAsync(new() { Body = forged.Body, Signature = forged.Signature }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (error.StatusCode, error.Status.Detail.Contains("signature")));
        var stale = (descriptor with { PublishedAt = DateTimeOffset.UtcNow.AddHours(-1) }).Sign(relay.Identity);
        Assert.Contains("publishedAt", (await Assert.ThrowsAsync<RpcException>(() => world.Agent("node-a").PublishDescriptorAsync(new() { Body = stale.Body, Signature = stale.Signature }).ResponseAsync)).Status.Detail);
        var named = (descriptor with { Address = "relay.example" }).Sign(relay.Identity);
        Assert.Contains("address", (await Assert.ThrowsAsync<RpcException>(() => world.Agent("node-a").PublishDescriptorAsync(new() { Body = named.Body, Signature = named.Signature }).ResponseAsync)).Status.Detail);
        var greedy = (descriptor with { BandwidthBytesPerSecond = long.MaxValue }).Sign(relay.Identity);
        Assert.Equal(StatusCode.InvalidArgument, await RefusedAsync(() => world.Agent("node-a").PublishDescriptorAsync(new() { Body = greedy.Body, Signature = greedy.Signature })));
        var ownPolicy = (descriptor with { ExitPolicy = ["accept *:*"] }).Sign(relay.Identity);
        Assert.Equal(StatusCode.InvalidArgument, await RefusedAsync(() => world.Agent("node-a").PublishDescriptorAsync(new() { Body = ownPolicy.Body, Signature = ownPolicy.Signature })));

        // A replay of an older descriptor is not stored over the newer one; a node without the role may not publish.
        var older = (descriptor with { PublishedAt = DateTimeOffset.UtcNow.AddMinutes(-1), Port = 2 }).Sign(relay.Identity);
        Assert.False((await world.Agent("node-a").PublishDescriptorAsync(new() { Body = older.Body, Signature = older.Signature })).Accepted);
        Assert.Equal(relay.Endpoint!.Port, (await world.As("vic", "viewer").ListRelaysAsync(new ListRelaysRequest())).Relays.Single().Port);
        var other = PrivacyWorld.Descriptor(relay, "node-b", ExitPolicy.Default).Sign(relay.Identity);
        Assert.Equal(StatusCode.FailedPrecondition, await RefusedAsync(() => world.Agent("node-b").PublishDescriptorAsync(new() { Body = other.Body, Signature = other.Signature })));
    }

    [Fact]
    public async Task The_consensus_lists_only_relays_that_proved_their_keys_at_their_address_and_clients_can_verify_it()
    {
        foreach (var node in new[] { "node-a", "node-b", "node-c", "node-d" })
        {
            await world.AddNodeAsync(node);
            await world.As("olga", "operator").DeployRelayAsync(new DeployRelayRequest { Node = node, ExitPolicy = { node == "node-c" ? "accept 127.0.0.0/8:*" : "reject *:*" } });
        }
        await world.StartRelayAsync("node-a", ["reject *:*"]);
        await world.StartRelayAsync("node-b", ["reject *:*"]);
        await world.StartRelayAsync("node-c", ["accept 127.0.0.0/8:*"]);
        // node-d advertises a port where nothing answers: it is not Running and not listed.
        var deaf = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        deaf.Start();
        var deafPort = ((IPEndPoint)deaf.LocalEndpoint).Port;
        deaf.Stop();
        await world.StartRelayAsync("node-d", ["reject *:*"], advertisedPort: deafPort);

        var document = await world.SignConsensusAsync();
        Assert.Equal(["node-a", "node-b", "node-c"], document.Relays.Select(r => r.Nickname).Order());
        Assert.Contains(RelayFlags.Exit, document.Relays.Single(r => r.Nickname == "node-c").Flags);
        Assert.All(document.Relays, r => Assert.Contains(RelayFlags.Running, r.Flags));
        var relays = (await world.As("vic", "viewer").ListRelaysAsync(new ListRelaysRequest())).Relays;
        Assert.False(relays.Single(r => r.Node == "node-d").Reachable);
        Assert.True(relays.Single(r => r.Node == "node-a").ProbeLatencyMs > 0);

        using var http = world.Privacy.Http(TestInfrastructure.Token("vic", "viewer"));
        var consensus = await http.GetFromJsonAsync<JsonElement>("/api/privacy/consensus");
        var signed = new SignedDocument(consensus.GetProperty("body").GetString()!, consensus.GetProperty("signature").GetString()!);
        var authority = Convert.FromBase64String(consensus.GetProperty("authorityKey").GetString()!);
        Assert.Equal(3, ConsensusDocument.Verify(signed, authority, DateTimeOffset.UtcNow).Relays.Count);
        Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(signed, authority, DateTimeOffset.UtcNow.AddHours(4)));

        var status = await http.GetFromJsonAsync<JsonElement>("/api/betanet/status");
        Assert.Equal((4, 3), (status.GetProperty("total").GetInt32(), status.GetProperty("running").GetInt32()));
    }
}
