using Platform.NodeAgent.Metrics;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Tests;

public sealed class PendingBatchesTests
{
    static SampleBatch Batch(ulong sequence) => new() { AgentId = "a", Sequence = sequence };

    [Fact]
    public void Acknowledging_a_sequence_forgets_it_and_everything_before_it()
    {
        var pending = new PendingBatches(capacity: 10);
        foreach (var s in new ulong[] { 1, 2, 3, 4 }) pending.Add(Batch(s));

        pending.Acknowledge(2);

        Assert.Equal([3UL, 4UL], pending.After(0).Select(b => b.Sequence));
        Assert.Equal([4UL], pending.After(3).Select(b => b.Sequence));
    }

    [Fact]
    public void Past_capacity_the_oldest_batches_are_dropped_and_counted()
    {
        var pending = new PendingBatches(capacity: 2);
        foreach (var s in new ulong[] { 1, 2, 3 }) pending.Add(Batch(s));

        Assert.Equal([2UL, 3UL], pending.After(0).Select(b => b.Sequence));
        Assert.Equal(1, pending.Dropped);
    }

    [Fact]
    public async Task A_waiter_wakes_when_a_batch_is_added()
    {
        var pending = new PendingBatches(capacity: 2);
        var waiting = pending.WaitForNextAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        pending.Add(Batch(1));

        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Dropping_the_oldest_removes_the_refused_batch()
    {
        var pending = new PendingBatches(capacity: 5);
        pending.Add(Batch(1));
        pending.Add(Batch(2));

        Assert.Equal(1UL, pending.DropOldest()?.Sequence);
        Assert.Equal(1, pending.Count);
    }
}

public sealed class DurablePendingBatchesTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("pending-").FullName;

    static SampleBatch Batch(ulong sequence, double value = 1) =>
        new() { AgentId = "a", Sequence = sequence, Samples = { new Sample { Name = "m", Value = value, TimestampMs = 1 } } };

    [Fact]
    public void A_restarted_agent_finds_every_unacknowledged_batch_in_order()
    {
        var before = new PendingBatches(capacity: 10, folder);
        foreach (var s in new ulong[] { 9, 10, 11 }) before.Add(Batch(s, s));
        before.Acknowledge(9);

        var after = new PendingBatches(capacity: 10, folder);

        Assert.Equal([10UL, 11UL], after.After(0).Select(b => b.Sequence));
        Assert.Equal(11.0, after.After(10).Single().Samples[0].Value);
        Assert.Equal(11UL, after.HighestSequence);
    }

    [Fact]
    public void Dropped_and_refused_batches_leave_no_file_behind()
    {
        var pending = new PendingBatches(capacity: 2, folder);
        foreach (var s in new ulong[] { 1, 2, 3 }) pending.Add(Batch(s));
        pending.DropOldest();

        Assert.Single(Directory.GetFiles(folder));
        Assert.Equal([3UL], new PendingBatches(capacity: 2, folder).After(0).Select(b => b.Sequence));
    }

    [Fact]
    public void A_batch_torn_by_a_crash_is_discarded_not_fatal()
    {
        File.WriteAllBytes(Path.Combine(folder, $"{5:D20}.batch"), [0xFF, 0xFF, 0xFF]);

        var pending = new PendingBatches(capacity: 2, folder);

        Assert.Equal(0, pending.Count);
        Assert.Empty(Directory.GetFiles(folder));
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);
}
