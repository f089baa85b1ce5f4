using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Metrics;

/// <summary>
/// Batches not yet acknowledged by Telemetry, oldest first. Bounded: past the capacity the oldest batch is dropped
/// (and counted), so an agent cut off for long never exhausts its node's memory.
/// </summary>
public sealed class PendingBatches(int capacity)
{
    readonly LinkedList<SampleBatch> batches = new();
    readonly Lock gate = new();
    TaskCompletionSource added = NewSignal();

    public long Dropped { get; private set; }

    public int Count { get { lock (gate) return batches.Count; } }

    public void Add(SampleBatch batch)
    {
        TaskCompletionSource signal;
        lock (gate)
        {
            batches.AddLast(batch);
            while (batches.Count > capacity)
            {
                batches.RemoveFirst();
                Dropped++;
            }
            signal = added;
            added = NewSignal();
        }
        signal.TrySetResult();
    }

    /// <summary>Batches after <paramref name="sequence"/>, in order.</summary>
    public IReadOnlyList<SampleBatch> After(ulong sequence)
    {
        lock (gate) return [.. batches.Where(b => b.Sequence > sequence)];
    }

    /// <summary>Forgets every batch up to and including <paramref name="sequence"/>.</summary>
    public void Acknowledge(ulong sequence)
    {
        lock (gate)
            while (batches.First is { } first && first.Value.Sequence <= sequence)
                batches.RemoveFirst();
    }

    /// <summary>Removes the oldest batch (one Telemetry refused as invalid) and returns it.</summary>
    public SampleBatch? DropOldest()
    {
        lock (gate)
        {
            if (batches.First is not { } first) return null;
            batches.RemoveFirst();
            return first.Value;
        }
    }

    /// <summary>Completes when a batch is added after this call.</summary>
    public Task WaitForNextAsync(CancellationToken cancellationToken)
    {
        lock (gate) return added.Task.WaitAsync(cancellationToken);
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
