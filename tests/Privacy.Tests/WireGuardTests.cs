using Platform.Privacy.V1;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>
/// The coordinator's configs on real WireGuard: two namespaces run wireguard-go configured with <c>wg setconf</c>; a
/// ping crosses the tunnel, keeps crossing while one side rotates its key, and stops once that side is revoked.
/// </summary>
public sealed class WireGuardTests : IAsyncLifetime
{
    PrivacyWorld world = null!;

    public async Task InitializeAsync() => world = await PrivacyWorld.StartAsync();

    public async Task DisposeAsync() => await world.DisposeAsync();

    [Fact]
    public async Task A_ping_crosses_the_tunnel_across_a_key_rotation_and_stops_for_a_revoked_peer()
    {
        var (a, b) = await WireGuardHost.PairAsync("192.168.77.1", "192.168.77.2");
        await using var hostA = a;
        await using var hostB = b;
        var vpn = new V1.Vpn.VpnClient(world.Privacy.Channel(TestInfrastructure.Token("olga", "operator")));
        using var http = world.Privacy.Http(TestInfrastructure.Token("olga", "operator"));

        // A brings its own key (from wg genkey); B's is made by the coordinator.
        var aPrivate = await VpnTests.WgAsync("genkey", "");
        var peerA = await vpn.CreatePeerAsync(new CreatePeerRequest { Name = "node-a", Endpoint = "192.168.77.1:51820", PublicKey = await VpnTests.WgAsync("pubkey", aPrivate) });
        var peerB = await vpn.CreatePeerAsync(new CreatePeerRequest { Name = "node-b", Endpoint = "192.168.77.2:51820", PresharedKey = true });
        var bConfig = await VpnTests.ConfigAsync(http, peerB.PeerId);
        var bPrivate = VpnTests.Line(bConfig, "PrivateKey")!;
        await hostA.ApplyAsync(await VpnTests.ConfigAsync(http, peerA.PeerId), aPrivate);
        await hostB.ApplyAsync(bConfig, bPrivate);
        var bFirst = peerB.Keys.Single().Address;
        await Eventually.HoldsAsync(() => hostA.PingAsync(bFirst), $"a ping from A to B at {bFirst}", TimeSpan.FromSeconds(20));

        // B rotates. A takes its new config first (both of B's keys, each with its own address) and still reaches B
        // on the old key; then B moves to the new key and address, and A reaches it there.
        var rotated = await vpn.RotatePeerAsync(new RotatePeerRequest { PeerId = peerB.PeerId });
        var bSecond = rotated.Keys[0].Address;
        await hostA.ApplyAsync(await VpnTests.ConfigAsync(http, peerA.PeerId), aPrivate);
        Assert.True(await hostA.PingAsync(bFirst), "the old key still works during the overlap");
        var bRotatedConfig = await VpnTests.ConfigAsync(http, peerB.PeerId);
        await hostB.ApplyAsync(bRotatedConfig, VpnTests.Line(bRotatedConfig, "PrivateKey")!);
        await Eventually.HoldsAsync(() => hostA.PingAsync(bSecond), $"a ping from A to B's new address {bSecond}", TimeSpan.FromSeconds(20));

        // B is revoked: A's next config has no B, and nothing crosses any more.
        await vpn.RevokePeerAsync(new RevokePeerRequest { PeerId = peerB.PeerId });
        await hostA.ApplyAsync(await VpnTests.ConfigAsync(http, peerA.PeerId), aPrivate);
        Assert.False(await hostA.PingAsync(bSecond));
        Assert.False(await hostA.PingAsync(bFirst));
    }
}
