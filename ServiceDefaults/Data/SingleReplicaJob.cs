using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// A job that runs every interval on one replica at a time (the one holding <see cref="SingleReplica"/>'s lock), the
/// first run one interval after start. A database failure is logged and the job runs again at the next tick.
/// </summary>
public abstract class SingleReplicaJob(NpgsqlDataSource db, long lockKey, TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock => clock;
    protected ILogger Logger => logger;

    /// <summary>How often the job runs.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>What the job does, for the log line of a failed run ("Alert evaluation", say).</summary>
    protected abstract string Description { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var replica = new SingleReplica(db, lockKey, logger);
        using var timer = new PeriodicTimer(Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (!await replica.IsMineAsync(stoppingToken)) continue;
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (NpgsqlException ex)
                {
                    logger.LogError(ex, "{Job} failed; next try in {Interval}", Description, Interval);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
