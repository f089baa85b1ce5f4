using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// Since when this process has reached PostgreSQL without a break: a probe every second, which counts as a break when
/// it fails or takes longer than two seconds (a frozen server answers nothing, it does not fail). The process's own
/// start counts as a break too: what others could not record while it was away is as missing as during an outage.
/// Whoever judges others by what the database holds (Compute's leases) waits until the database has been steady long
/// enough for them to have written again.
/// </summary>
public sealed class DatabaseAvailability(NpgsqlDataSource db, TimeProvider clock, ILogger<DatabaseAvailability> logger) : BackgroundService
{
    static readonly TimeSpan Every = TimeSpan.FromSeconds(1), Slow = TimeSpan.FromSeconds(2);
    DateTimeOffset? reachableSince = clock.GetUtcNow();

    /// <summary>Since when PostgreSQL has answered every probe in time; null while it does not.</summary>
    public DateTimeOffset? ReachableSince => reachableSince;

    /// <summary>Whether PostgreSQL has answered without a break for at least <paramref name="period"/>.</summary>
    public bool SteadyFor(TimeSpan period) => reachableSince is { } since && clock.GetUtcNow() - since >= period;

    /// <summary>A caller saw the database fail (or hang): the steady period starts again once it answers.</summary>
    public void Broken()
    {
        if (reachableSince is not null) logger.LogWarning("PostgreSQL is unreachable; judgements that depend on what others wrote meanwhile wait");
        reachableSince = null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Every, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            deadline.CancelAfter(Slow);
            try
            {
                await using var probe = db.CreateCommand("SELECT 1");
                await probe.ExecuteScalarAsync(deadline.Token);
                if (reachableSince is null)
                {
                    reachableSince = clock.GetUtcNow();
                    logger.LogInformation("PostgreSQL answers again");
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                Broken();
            }
        }
    }
}
