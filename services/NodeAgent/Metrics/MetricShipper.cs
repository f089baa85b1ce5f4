using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Machine;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Metrics;

/// <summary>More samples to ship with the machine's, read at the same moment (the workloads' use, say).</summary>
public interface ISampleSource
{
    IEnumerable<Sample> Read(string node, DateTimeOffset now);
}

/// <summary>
/// Reads the machine every interval into a numbered batch and streams pending batches to Telemetry. A batch leaves
/// the pending list only when Telemetry acknowledges its commit; after a broken stream every pending batch is sent
/// again, and Telemetry ignores the ones it already committed. When the agent stops, collection ends first and the
/// shipper keeps going until nothing is pending or the drain time is up (what remains stays on disk for next time).
/// </summary>
public sealed class MetricShipper(
    MetricIngestion.MetricIngestionClient telemetry, NodeIdentity identity, IOptions<NodeAgentOptions> options,
    PendingBatches pending, TimeProvider clock, ILogger<MetricShipper> logger, IEnumerable<ISampleSource>? sources = null) : BackgroundService
{
    // Sequences start from the clock (microseconds) and above any batch still pending from an earlier run, so a
    // restarted agent never reuses a sequence Telemetry may already have committed.
    ulong nextSequence = Math.Max((ulong)clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000, pending.HighestSequence + 1);

    // This run's epoch: Telemetry recognises replays per (agent, epoch), so a run whose clock stepped back is not taken
    // for a replay of the last one, and a sender who does not know the epoch cannot push this run's cursor ahead.
    readonly ulong epoch = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)) >> 1) | 1;

    public static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(12);

    // Cancelled when the agent starts stopping: a shipper waiting out a long backoff (Telemetry was down a while) tries
    // again at once, and keeps its retries short, so the drain is not spent asleep.
    readonly CancellationTokenSource draining = new();

    /// <summary>Telemetry restarts in seconds, and a refused connect costs nothing: a shipper never waits longer than this to retry.</summary>
    static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(4);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var shipping = new CancellationTokenSource();
        var shipper = ShipAsync(shipping.Token);
        await CollectAsync(stoppingToken);

        await draining.CancelAsync();
        shipping.CancelAfter(DrainTime);
        try
        {
            await pending.WaitUntilEmptyAsync(shipping.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("{Pending} batches still pending at stop; they are kept for the next start", pending.Count);
        }
        await shipping.CancelAsync();
        await shipper;
        logger.LogInformation("Agent {AgentId} stopping: {Samples} samples collected this run, {Pending} batches still pending",
            identity.Name, pending.SamplesAdded, pending.Count);
    }

    public override void Dispose()
    {
        draining.Dispose();
        base.Dispose();
    }

    async Task CollectAsync(CancellationToken stoppingToken)
    {
        var machine = new MachineReader();
        using var timer = new PeriodicTimer(options.Value.MetricsInterval, clock);
        try
        {
            await CollectLoopAsync(machine, timer, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    async Task CollectLoopAsync(MachineReader machine, PeriodicTimer timer, CancellationToken stoppingToken)
    {
        do
        {
            try
            {
                var batch = new SampleBatch { AgentId = identity.Name, Sequence = nextSequence++, Epoch = epoch };
                var now = clock.GetUtcNow();
                batch.Samples.AddRange(machine.ReadSamples(identity.Name, now));
                foreach (var source in sources ?? []) batch.Samples.AddRange(source.Read(identity.Name, now));
                pending.Add(batch);
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
            {
                logger.LogError(ex, "Reading the machine's counters failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    async Task ShipAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await StreamAsync(stoppingToken);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument
                || ex.StatusCode == StatusCode.ResourceExhausted && RetryDelay(ex) is null)
            {
                // The stream stops at the first refused batch, which is the oldest unacknowledged one. Refused for what
                // it is (invalid, or over the series budget), it would be refused again: it is dropped and counted.
                var refused = pending.DropOldest(refused: true);
                logger.LogError("Telemetry refused batch {Sequence} ({Code}): {Reason}", refused?.Sequence, ex.StatusCode, ex.Status.Detail);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && !stoppingToken.IsCancellationRequested)
            {
                // Over the sample rate: Telemetry says when the batch fits.
                var wait = RetryDelay(ex)!.Value;
                logger.LogWarning("Telemetry is rate-limiting this agent; retrying in {Wait}", wait);
                await Task.Delay(wait < MaxBackoff ? wait : MaxBackoff, clock, stoppingToken);
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Telemetry stream broken ({Reason}); {Pending} batches pending, retrying in {Backoff}",
                    ex.Message, pending.Count, backoff);
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, draining.Token))
                {
                    try
                    {
                        await Task.Delay(draining.IsCancellationRequested ? TimeSpan.FromMilliseconds(100) : backoff, clock, draining.IsCancellationRequested ? stoppingToken : wait.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // The agent started stopping: retry now.
                    }
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }
            backoff = TimeSpan.FromMilliseconds(250);
        }
    }

    static TimeSpan? RetryDelay(RpcException refusal) =>
        refusal.GetRpcStatus()?.GetDetail<Google.Rpc.RetryInfo>()?.RetryDelay?.ToTimeSpan();

    async Task StreamAsync(CancellationToken stoppingToken)
    {
        using var call = telemetry.PushSamples(cancellationToken: stoppingToken);
        var acknowledgements = Task.Run(async () =>
        {
            await foreach (var ack in call.ResponseStream.ReadAllAsync(stoppingToken))
                pending.Acknowledge(ack.Sequence);
        }, stoppingToken);

        ulong sentThrough = 0;
        while (true)
        {
            var next = pending.WaitForNextAsync(stoppingToken);
            foreach (var batch in pending.After(sentThrough))
            {
                await call.RequestStream.WriteAsync(batch, stoppingToken);
                sentThrough = batch.Sequence;
            }
            if (await Task.WhenAny(next, acknowledgements) == acknowledgements)
            {
                await acknowledgements; // rethrows the stream's failure
                return;
            }
            await next; // throws once the agent stops

        }
    }
}
