using Platform.Compute.Nodes;
using Platform.Compute.V1;

namespace Platform.Compute.Tests;

public sealed class NodeLeaseTests
{
    static readonly DateTimeOffset Heartbeat = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    static readonly TimeSpan Lease = TimeSpan.FromSeconds(15);

    static NodeRecord Node() => new(Guid.NewGuid(), "n", "h", [], new NodeCapacity { CpuCores = 1, MemoryBytes = 1 }, [], "1", Heartbeat, Heartbeat);

    [Theory]
    [InlineData(0, "Ready")]
    [InlineData(14.999, "Ready")]
    [InlineData(15, "NotReady")]
    [InlineData(600, "NotReady")]
    public void A_node_is_Ready_only_while_its_lease_holds(double secondsAfterHeartbeat, string status) =>
        Assert.Equal(status, Node().Status(Heartbeat.AddSeconds(secondsAfterHeartbeat), Lease));

    [Fact]
    public void The_message_carries_the_lease_expiry_in_epoch_milliseconds() =>
        Assert.Equal(Heartbeat.Add(Lease).ToUnixTimeMilliseconds(), Node().ToMessage(Heartbeat, Lease).LeaseExpiresAtMs);
}
