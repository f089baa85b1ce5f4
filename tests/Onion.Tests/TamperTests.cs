using System.Net;
using Platform.Onion.Client;

namespace Platform.Onion.Tests;

/// <summary>What a hostile wire or client can do to a relay: kill its own circuit, never the relay or anyone else's.</summary>
public class TamperTests
{
    [Fact]
    public async Task A_tampered_cell_kills_its_circuit_at_the_next_hop_and_the_relay_keeps_serving_others()
    {
        TamperingProxy? proxy = null;
        await using var network = await TestNetwork.StartAsync((i, endpoint) => i == 1 ? (proxy = new TamperingProxy(endpoint)).Endpoint : endpoint);
        await using var _ = proxy!;

        var victim = await network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None);
        var bystander = await network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None);
        var closed = new TaskCompletionSource<DestroyReason>();
        victim.Closed += (_, reason) => closed.TrySetResult(reason);

        // The guard passes the cell on (it cannot tell: the change is made after it); the middle's tag check fails.
        proxy!.Arm();
        await Assert.ThrowsAnyAsync<Exception>(() => victim.OpenStreamAsync("127.0.0.1", network.WebAddress.Port, CancellationToken.None));
        Assert.Equal(1, proxy.Tampered);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, network.Middle.Counters.ProtocolViolations);
        Assert.Equal(0, network.Exit.Counters.StreamsOpened);

        // The same relays, over the same links, still carry the other circuit, and new ones.
        await using (var stream = await bystander.OpenStreamAsync("127.0.0.1", network.WebAddress.Port, CancellationToken.None))
            Assert.Equal("hello through three hops", await GetAsync(stream, "/hello"));
        var fresh = await network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None);
        await using (var stream = await fresh.OpenStreamAsync("localhost", network.WebAddress.Port, CancellationToken.None))
            Assert.Equal("hello through three hops", await GetAsync(stream, "/hello"));
    }

    [Fact]
    public async Task Garbage_and_protocol_abuse_end_the_offending_circuit_only()
    {
        await using var network = await TestNetwork.StartAsync();
        var good = await network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None);

        // A raw link to the guard: a CREATE2 with a bad handshake, a RELAY cell for a circuit it never made, a
        // circuit ID with the wrong top bit, and then plain garbage cells.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(network.Guard.Endpoint!);
        var wire = tcp.GetStream();
        await wire.WriteAsync(Cells.Create2(0x8000_0001, new byte[Ntor.OnionskinSize]));
        var relay = Cells.New(0x8000_0002, CellCommand.Relay);
        Random.Shared.NextBytes(Cells.Payload(relay.AsSpan()));
        await wire.WriteAsync(relay);
        await wire.WriteAsync(Cells.Create2(0x0000_0003, new byte[Ntor.OnionskinSize]));
        var answer = new byte[Cells.Size];
        foreach (var refused in new[] { 0x8000_0001u, 0x0000_0003u })
        {
            await wire.ReadExactlyAsync(answer);
            Assert.Equal((CellCommand.Destroy, refused, DestroyReason.Protocol), (Cells.Command(answer), Cells.CircuitId(answer), (DestroyReason)answer[Cells.HeaderSize]));
        }

        // A client that sends more than eight RELAY_EARLY cells on a circuit loses that circuit at the guard.
        var early = await RawCircuitAsync(wire, network.Guard, 0x8000_0010);
        for (var i = 0; i < 9; i++)
        {
            var cell = Cells.New(0x8000_0010, CellCommand.RelayEarly);
            var message = new byte[RelayMessage.HeaderSize];
            new RelayMessage(RelayCommand.Sendme, 5, ReadOnlyMemory<byte>.Empty).Write(message);
            OnionLayers.SealForward([early], 0, message, Cells.Payload(cell.AsSpan()));
            await wire.WriteAsync(cell);
        }
        await wire.ReadExactlyAsync(answer);
        Assert.Equal((CellCommand.Destroy, 0x8000_0010u), (Cells.Command(answer), Cells.CircuitId(answer)));

        await using var stream = await good.OpenStreamAsync("127.0.0.1", network.WebAddress.Port, CancellationToken.None);
        Assert.Equal("hello through three hops", await GetAsync(stream, "/hello"));
    }

    [Fact]
    public async Task A_relay_extends_only_where_it_is_told_and_a_bad_begin_ends_only_its_stream()
    {
        await using var network = await TestNetwork.StartAsync();
        var circuit = await network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None);

        // A stream to a name no exit would take ends that stream; the circuit and its next stream go on.
        await Assert.ThrowsAsync<OnionException>(() => circuit.OpenStreamAsync("bad name", network.WebAddress.Port, CancellationToken.None));
        Assert.True(circuit.IsOpen);
        await using (var stream = await circuit.OpenStreamAsync("127.0.0.1", network.WebAddress.Port, CancellationToken.None))
            Assert.Equal("hello through three hops", await GetAsync(stream, "/hello"));

        // A middle told to extend nowhere (a target outside its consensus) refuses the EXTEND2: the build fails there.
        network.Middle.ExtendAllowed = (_, _) => Task.FromResult(false);
        await Assert.ThrowsAsync<OnionException>(() => network.Client.BuildAsync(network.WebAddress.Port, CancellationToken.None));
        Assert.Equal(1, network.Middle.Counters.ProtocolViolations);
        Assert.DoesNotContain(network.Middle.Links, l => l.Outbound && l.Peer != network.Exit.Endpoint!.ToString());
    }

    /// <summary>A one-hop circuit made by hand over a raw link, to send what a well-behaved client never would.</summary>
    static async Task<HopKeys> RawCircuitAsync(Stream wire, Relay.OnionRelay relay, uint id)
    {
        var skin = Ntor.ClientStart(relay.Identity.NodeId, relay.OnionKeys.Current.PublicKey, out var state);
        await wire.WriteAsync(Cells.Create2(id, skin));
        var created = new byte[Cells.Size];
        await wire.ReadExactlyAsync(created);
        Assert.Equal(CellCommand.Created2, Cells.Command(created));
        Assert.True(Ntor.TryClientFinish(state, Cells.ReadCreated2(created), HopKeys.KeyMaterialSize, out var keys));
        return new HopKeys(keys);
    }

    internal static async Task<string> GetAsync(Stream stream, string path)
    {
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"));
        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync();
        return response[(response.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }
}
