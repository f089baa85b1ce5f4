using System.Security.Cryptography;

namespace Platform.Onion.Tests;

/// <summary>The per-hop authenticated relay crypto: what each hop accepts, and that any change is caught at the next hop.</summary>
public class LayeredCryptoTests
{
    static (List<HopKeys> Client, List<HopKeys> Relays) Circuit(int hops)
    {
        var material = Enumerable.Range(0, hops).Select(_ => RandomNumberGenerator.GetBytes(HopKeys.KeyMaterialSize)).ToList();
        return ([.. material.Select(m => new HopKeys(m))], [.. material.Select(m => new HopKeys(m))]);
    }

    static byte[] Message(int length) => new RelayMessage(RelayCommand.Data, 7, RandomNumberGenerator.GetBytes(length)).ToBytes();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void A_forward_cell_is_forwarded_by_each_hop_and_delivered_at_its_target(int target)
    {
        var (client, relays) = Circuit(3);
        for (var round = 0; round < 3; round++)
        {
            var message = Message(OnionLayers.ForwardCapacity(target) - RelayMessage.HeaderSize);
            var payload = new byte[Cells.PayloadSize];
            OnionLayers.SealForward(client, target, message, payload);
            for (var hop = 0; hop <= target; hop++)
            {
                var output = new byte[Cells.PayloadSize];
                var opened = relays[hop].OpenForward(payload, output);
                Assert.Equal(hop == target ? HopKeys.Opened.Deliver : HopKeys.Opened.Forward, opened);
                payload = output;
            }
            Assert.Equal(message, payload[..message.Length]);
        }
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 300)]
    [InlineData(1, 508)]
    [InlineData(1, 16)]
    public void A_cell_changed_between_hops_fails_at_the_next_hop(int tamperedAfterHop, int bit)
    {
        var (client, relays) = Circuit(3);
        var payload = new byte[Cells.PayloadSize];
        OnionLayers.SealForward(client, 2, Message(100), payload);
        for (var hop = 0; hop <= tamperedAfterHop; hop++)
        {
            var output = new byte[Cells.PayloadSize];
            Assert.Equal(HopKeys.Opened.Forward, relays[hop].OpenForward(payload, output));
            payload = output;
        }
        payload[bit] ^= 0x01;
        Assert.Equal(HopKeys.Opened.Invalid, relays[tamperedAfterHop + 1].OpenForward(payload, new byte[Cells.PayloadSize]));
    }

    [Fact]
    public void A_replayed_cell_fails_authentication()
    {
        var (client, relays) = Circuit(1);
        var payload = new byte[Cells.PayloadSize];
        OnionLayers.SealForward(client, 0, Message(10), payload);
        Assert.Equal(HopKeys.Opened.Deliver, relays[0].OpenForward(payload, new byte[Cells.PayloadSize]));
        Assert.Equal(HopKeys.Opened.Invalid, relays[0].OpenForward(payload, new byte[Cells.PayloadSize]));
    }

    [Fact]
    public void Backward_cells_are_peeled_to_the_hop_that_sealed_them_and_a_change_is_caught()
    {
        var (client, relays) = Circuit(3);
        for (var origin = 2; origin >= 0; origin--)
        {
            var message = Message(200);
            var payload = new byte[Cells.PayloadSize];
            var sealedTag = relays[origin].SealBackward(message, payload);
            for (var hop = origin - 1; hop >= 0; hop--) relays[hop].WrapBackward(payload);
            var plain = new byte[HopKeys.BodySize];
            var tag = new byte[HopKeys.TagSize];
            Assert.True(OnionLayers.OpenBackward(client, origin, payload, plain, tag));
            Assert.Equal(message, plain[..message.Length]);
            Assert.Equal(sealedTag, tag);
        }

        var tampered = new byte[Cells.PayloadSize];
        relays[2].SealBackward(Message(50), tampered);
        relays[1].WrapBackward(tampered);
        tampered[100] ^= 0x80;
        relays[0].WrapBackward(tampered);
        Assert.False(OnionLayers.OpenBackward(client, 2, tampered, new byte[HopKeys.BodySize], new byte[HopKeys.TagSize]));
    }
}

static class RelayMessageBytes
{
    public static byte[] ToBytes(this RelayMessage message)
    {
        var bytes = new byte[message.Size];
        message.Write(bytes);
        return bytes;
    }
}
