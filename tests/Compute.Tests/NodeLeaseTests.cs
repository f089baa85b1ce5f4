using Platform.Compute.Nodes;
using Platform.Compute.V1;

namespace Platform.Compute.Tests;

public sealed class NodeLeaseTests
{
    static readonly DateTimeOffset Heartbeat = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    static NodeRecord Node() => new(Guid.NewGuid(), "n", "h", [], new NodeCapacity { CpuCores = 1, MemoryBytes = 1 }, [], "1", Heartbeat, Heartbeat);

    static readonly TimeSpan DownAfter = TimeSpan.FromSeconds(45);

    [Theory]
    [InlineData(0, "Ready")]
    [InlineData(14.999, "Ready")]
    [InlineData(15, "NotReady")]
    [InlineData(59.999, "NotReady")]
    [InlineData(60, "Down")]
    [InlineData(600, "Down")]
    public void A_node_is_Ready_while_its_lease_holds_NotReady_after_and_Down_past_the_grace(double secondsAfterHeartbeat, string status) =>
        Assert.Equal(status, Node().Status(Heartbeat.AddSeconds(secondsAfterHeartbeat), Lease, DownAfter));

    [Fact]
    public void The_message_carries_the_lease_expiry_in_epoch_milliseconds() =>
        Assert.Equal(Heartbeat.Add(Lease).ToUnixTimeMilliseconds(),
            Node().ToMessage(Heartbeat, new NodeLeaseOptions { Duration = Lease, DownAfter = DownAfter }).LeaseExpiresAtMs);
}
