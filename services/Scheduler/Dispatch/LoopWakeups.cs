using System.Threading.Channels;
using Platform.ServiceDefaults.Cache;
using StackExchange.Redis;

namespace Platform.Scheduler.Dispatch;

/// <summary>
/// Wakes the scheduling loop before its interval is up: a workload of the scheduler's changed state (the
/// <c>workloads</c> events), or a job was submitted, changed or cancelled on any replica (the <c>jobs</c> events). A
/// missed event costs at most one interval: the loop follows everything from the database in any case.
/// </summary>
public sealed class LoopWakeups(IConnectionMultiplexer cache, ILogger<LoopWakeups> logger) : IHostedService
{
    static readonly string[] QueueChanges = ["\"job.submitted\"", "\"job.updated\"", "\"job.cancelled\""];
    readonly Channel<bool> wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Waits for the next wake-up or <paramref name="interval"/>, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan interval, TimeProvider clock, CancellationToken cancellationToken)
    {
        using var elapsed = new CancellationTokenSource(interval, clock);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, elapsed.Token);
        try
        {
            await wake.Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Wake() => wake.Writer.TryWrite(true);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await cache.SubscribeEventsAsync("workloads", (_, message) =>
            {
                if (message.ToString().Contains("\"scheduled-by\":\"scheduler\"", StringComparison.Ordinal)) Wake();
            });
            await cache.SubscribeEventsAsync("jobs", (_, message) =>
            {
                var text = message.ToString();
                if (QueueChanges.Any(type => text.Contains(type, StringComparison.Ordinal))) Wake();
            });
        }
        catch (RedisException ex)
        {
            logger.LogWarning("Not woken by events until the Redis-protocol server answers ({Reason}): the loop runs on its interval", ex.Message);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await cache.UnsubscribeEventsAsync("workloads");
        await cache.UnsubscribeEventsAsync("jobs");
    }
}
