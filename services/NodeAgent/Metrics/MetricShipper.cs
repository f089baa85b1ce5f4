using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Machine;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Metrics;

/// <summary>
/// Reads the machine every interval into a numbered batch and streams pending batches to Telemetry. A batch leaves
/// the pending list only when Telemetry acknowledges its commit; after a broken stream every pending batch is sent
/// again, and Telemetry ignores the ones it already committed.
/// </summary>
public sealed class MetricShipper(
    MetricIngestion.MetricIngestionClient telemetry, NodeIdentity identity, IOptions<NodeAgentOptions> options,
    PendingBatches pending, TimeProvider clock, ILogger<MetricShipper> logger) : BackgroundService
{
    // Sequences start from the clock (microseconds) so a restarted agent continues above its earlier batches.
    ulong nextSequence = (ulong)clock.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(CollectAsync(stoppingToken), ShipAsync(stoppingToken));

    async Task CollectAsync(CancellationToken stoppingToken)
    {
        var machine = new MachineReader();
        using var timer = new PeriodicTimer(options.Value.MetricsInterval, clock);
        do
        {
            try
            {
                var batch = new SampleBatch { AgentId = identity.Name, Sequence = nextSequence++ };
                batch.Samples.AddRange(machine.ReadSamples(identity.Name, clock.GetUtcNow()));
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
            catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
            {
                // The stream stops at the first refused batch, which is the oldest unacknowledged one.
                var refused = pending.DropOldest();
                logger.LogError("Telemetry refused batch {Sequence}: {Reason}", refused?.Sequence, ex.Status.Detail);
            }
            catch (Exception ex) when (ex is RpcException or HttpRequestException or IOException && !stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Telemetry stream broken ({Reason}); {Pending} batches pending, retrying in {Backoff}",
                    ex.Message, pending.Count, backoff);
                await Task.Delay(backoff, clock, stoppingToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                continue;
            }
            backoff = TimeSpan.FromMilliseconds(250);
        }
    }

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
