using Google.Protobuf;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Metrics;

/// <summary>
/// Batches not yet acknowledged by Telemetry, oldest first, each also kept as a file in the agent's state folder
/// (written and flushed before it is offered for sending), so a restarted agent resends what Telemetry never
/// confirmed. Bounded: past the capacity the oldest batch is dropped and counted, so an agent cut off for long never
/// exhausts its node's memory or disk.
/// </summary>
public sealed class PendingBatches
{
    const string Extension = ".batch";
    readonly LinkedList<SampleBatch> batches = new();
    readonly Lock gate = new();
    readonly int capacity;
    readonly string? folder;
    TaskCompletionSource added = NewSignal();
    TaskCompletionSource emptied = NewSignal();

    public PendingBatches(int capacity, string? folder = null)
    {
        this.capacity = capacity;
        this.folder = folder;
        if (folder is null) return;
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(folder, "*" + Extension).Order(StringComparer.Ordinal))
        {
            try
            {
                batches.AddLast(SampleBatch.Parser.ParseFrom(File.ReadAllBytes(file)));
            }
            catch (InvalidProtocolBufferException)
            {
                File.Delete(file); // torn by a crash mid-write; it was never sent, so nothing acknowledged is lost
            }
        }
    }

    /// <summary>Batches dropped because the list was full (the oldest go first).</summary>
    public long Dropped { get; private set; }

    /// <summary>Batches Telemetry refused for what they are (invalid, over the series budget) and that were dropped.</summary>
    public long Refused { get; private set; }

    /// <summary>Samples added in this process's life, whether since acknowledged or not.</summary>
    public long SamplesAdded { get; private set; }

    public int Count { get { lock (gate) return batches.Count; } }

    /// <summary>The highest sequence pending, 0 when none: a restarted agent numbers its next batch above it.</summary>
    public ulong HighestSequence { get { lock (gate) return batches.Last?.Value.Sequence ?? 0; } }

    public void Add(SampleBatch batch)
    {
        if (folder is not null) Persist(batch);
        TaskCompletionSource signal;
        lock (gate)
        {
            batches.AddLast(batch);
            SamplesAdded += batch.Samples.Count;
            while (batches.Count > capacity)
            {
                Forget(batches.First!.Value);
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
        TaskCompletionSource? signal = null;
        lock (gate)
        {
            while (batches.First is { } first && first.Value.Sequence <= sequence)
            {
                Forget(first.Value);
                batches.RemoveFirst();
            }
            if (batches.Count == 0)
            {
                signal = emptied;
                emptied = NewSignal();
            }
        }
        signal?.TrySetResult();
    }

    /// <summary>Completes once nothing is pending.</summary>
    public Task WaitUntilEmptyAsync(CancellationToken cancellationToken)
    {
        lock (gate) return batches.Count == 0 ? Task.CompletedTask : emptied.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Removes the oldest batch (one Telemetry refused as invalid) and returns it.</summary>
    public SampleBatch? DropOldest(bool refused = false)
    {
        lock (gate)
        {
            if (batches.First is not { } first) return null;
            Forget(first.Value);
            batches.RemoveFirst();
            if (refused) Refused++;
            return first.Value;
        }
    }

    /// <summary>Completes when a batch is added after this call.</summary>
    public Task WaitForNextAsync(CancellationToken cancellationToken)
    {
        lock (gate) return added.Task.WaitAsync(cancellationToken);
    }

    void Persist(SampleBatch batch)
    {
        var path = FileFor(batch);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            batch.WriteTo(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    void Forget(SampleBatch batch)
    {
        if (folder is not null) File.Delete(FileFor(batch));
    }

    // Zero-padded so that ordinal order is sequence order.
    string FileFor(SampleBatch batch) => Path.Combine(folder!, $"{batch.Sequence:D20}{Extension}");

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
