using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Npgsql;
using Platform.Privacy.V1;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>The VPN coordinator's rules: keys as wg makes them, shown once, addresses and prefixes that never overlap, rotation, revocation.</summary>
public sealed class VpnTests : IAsyncLifetime
{
    PrivacyWorld world = null!;

    public async Task InitializeAsync() => world = await PrivacyWorld.StartAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    V1.Vpn.VpnClient As(string user, string role = "viewer") => new(world.Privacy.Channel(TestInfrastructure.Token(user, role)));

    internal static async Task<string> ConfigAsync(HttpClient http, string peerId)
    {
        using var response = await http.GetAsync($"/api/privacy/vpn/peers/{peerId}/config");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        return body;
    }

    internal static string? Line(string config, string key) =>
        config.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith(key + " = ", StringComparison.Ordinal))?[(key.Length + 3)..];

    internal static async Task<string> WgAsync(string arguments, string input)
    {
        var wg = Process.Start(new ProcessStartInfo("wg", arguments) { RedirectStandardInput = true, RedirectStandardOutput = true })!;
        // `wg genkey` reads nothing and may be gone before anything is written: only `wg pubkey` gets input.
        if (input.Length > 0) await wg.StandardInput.WriteAsync(input + "\n");
        wg.StandardInput.Close();
        var output = await wg.StandardOutput.ReadToEndAsync();
        await wg.WaitForExitAsync();
        return output.Trim();
    }

    [Fact]
    public async Task Keys_are_wgs_own_the_private_key_is_shown_once_to_its_owner_and_never_stored_in_clear()
    {
        var peer = await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "ann-laptop" });
        var key = Assert.Single(peer.Keys);
        Assert.Equal(("10.77.0.1", true), (key.Address, key.PrivateKeyPending));

        using var ann = world.Privacy.Http(TestInfrastructure.Token("ann", "viewer"));
        var first = await ConfigAsync(ann, peer.PeerId);
        var privateKey = Line(first, "PrivateKey")!;
        Assert.Equal(key.PublicKey, await WgAsync("pubkey", privateKey));
        Assert.Equal("10.77.0.1/16", Line(first, "Address"));
        Assert.Null(Line(await ConfigAsync(ann, peer.PeerId), "PrivateKey"));
        Assert.False((await As("ann").ListPeersAsync(new ListPeersRequest())).Peers.Single().Keys.Single().PrivateKeyPending);

        // Someone else's peer does not exist for a viewer; an operator sees the config, never a private key.
        using var bob = world.Privacy.Http(TestInfrastructure.Token("bob", "viewer"));
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/privacy/vpn/peers/{peer.PeerId}/config")).StatusCode);
        Assert.Empty((await As("bob").ListPeersAsync(new ListPeersRequest())).Peers);

        var second = await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "ann-phone" });
        using var olga = world.Privacy.Http(TestInfrastructure.Token("olga", "operator"));
        Assert.Null(Line(await ConfigAsync(olga, second.PeerId), "PrivateKey"));

        // What a reader of the database finds: sealed bytes, not the key.
        await using var db = NpgsqlDataSource.Create(world.Privacy.ConnectionString);
        await using var command = db.CreateCommand("SELECT sealed_private_key FROM privacy.vpn_keys WHERE sealed_private_key IS NOT NULL");
        var stored = (byte[])(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain(Convert.ToBase64String(stored), second.Keys.Single().PublicKey);
        Assert.True(stored.Length > 32);
    }

    [Fact]
    public async Task Bad_input_is_refused_by_field_and_prefixes_never_overlap()
    {
        using var http = world.Privacy.Http(TestInfrastructure.Token("ann", "viewer"));
        async Task<string> RefusedAsync(object body, HttpStatusCode expected)
        {
            using var response = await http.PostAsJsonAsync("/api/privacy/vpn/peers", body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode} {text}");
            return text;
        }
        Assert.Contains("name", await RefusedAsync(new { name = "Not A Name" }, HttpStatusCode.BadRequest));
        Assert.Contains("endpoint", await RefusedAsync(new { name = "a", endpoint = "host:99999" }, HttpStatusCode.BadRequest));
        Assert.Contains("public_key", await RefusedAsync(new { name = "a", publicKey = "short" }, HttpStatusCode.BadRequest));
        Assert.Contains("allowed_ips[0]", await RefusedAsync(new { name = "a", allowedIps = new[] { "10.77.5.0/24" } }, HttpStatusCode.BadRequest));
        Assert.Contains("allowed_ips[1]", await RefusedAsync(new { name = "a", allowedIps = new[] { "192.168.1.0/24", "192.168.2.1/24" } }, HttpStatusCode.BadRequest));

        // A person holds at most 16 active peers: the pool is the whole cluster's.
        for (var i = 0; i < 16; i++) await As("mia").CreatePeerAsync(new CreatePeerRequest { Name = $"mia-{i}" });
        Assert.Equal(StatusCode.ResourceExhausted, (await Assert.ThrowsAsync<RpcException>(() => As("mia").CreatePeerAsync(new CreatePeerRequest { Name = "mia-16" }).ResponseAsync)).StatusCode);

        await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "edge-1", AllowedIps = { "192.168.10.0/24" }, Endpoint = "10.0.0.1:51820" });
        Assert.Contains("allowed_ips", await RefusedAsync(new { name = "edge-2", allowedIps = new[] { "192.168.0.0/16" } }, HttpStatusCode.BadRequest));
        await RefusedAsync(new { name = "edge-1" }, HttpStatusCode.Conflict);
        Assert.DoesNotContain((await As("ann").ListPeersAsync(new ListPeersRequest())).Peers, p => p.Name == "edge-2");
    }

    [Fact]
    public async Task Rotation_gives_the_new_key_its_own_address_beside_the_old_one_and_revocation_removes_a_peer_everywhere()
    {
        var a = await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "a", Endpoint = "10.0.0.1:51820", PresharedKey = true });
        var b = await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "b", Endpoint = "10.0.0.2:51820", PresharedKey = true, AllowedIps = { "172.16.0.0/24" } });
        using var http = world.Privacy.Http(TestInfrastructure.Token("ann", "viewer"));
        var aConfig = await ConfigAsync(http, a.PeerId);
        var bConfig = await ConfigAsync(http, b.PeerId);
        Assert.Equal(Line(aConfig, "PresharedKey"), Line(bConfig, "PresharedKey"));
        Assert.Equal("10.77.0.2/32, 172.16.0.0/24", Line(aConfig, "AllowedIPs"));
        Assert.Equal("51820", Line(aConfig, "ListenPort"));

        var rotated = await As("ann").RotatePeerAsync(new RotatePeerRequest { PeerId = b.PeerId });
        Assert.Equal(2, rotated.Keys.Count);
        Assert.NotEqual(rotated.Keys[0].Address, rotated.Keys[1].Address);
        Assert.True(rotated.Keys[1].RetiresAtMs > 0);
        var during = await ConfigAsync(http, a.PeerId);
        Assert.Equal(2, during.Split("[Peer]").Length - 1);
        Assert.Contains(rotated.Keys[0].PublicKey, during);
        Assert.Contains(rotated.Keys[1].PublicKey, during);

        var revoked = await As("ann").RevokePeerAsync(new RevokePeerRequest { PeerId = b.PeerId });
        Assert.True(revoked.RevokedAtMs > 0);
        Assert.DoesNotContain("[Peer]", await ConfigAsync(http, a.PeerId));
        Assert.Equal(HttpStatusCode.Conflict, (await http.GetAsync($"/api/privacy/vpn/peers/{b.PeerId}/config")).StatusCode);
        // Its addresses went back to the pool.
        var c = await As("ann").CreatePeerAsync(new CreatePeerRequest { Name = "c" });
        Assert.Equal("10.77.0.2", c.Keys.Single().Address);
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => As("ann").RotatePeerAsync(new RotatePeerRequest { PeerId = "nope" }).ResponseAsync)).StatusCode);
    }
}
