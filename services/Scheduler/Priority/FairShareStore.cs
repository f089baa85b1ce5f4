using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Scheduler.Priority;

/// <summary>
/// <c>scheduler.usage</c>: each user's CPU-seconds of finished work, decayed with the configured half-life (Slurm's
/// PriorityDecayHalfLife), and the priorities that follow from it.
/// </summary>
public sealed class FairShareStore(NpgsqlDataSource db, IOptions<PriorityOptions> options, TimeProvider clock)
{
    double HalfLifeSeconds => options.Value.UsageHalfLife.TotalSeconds;

    /// <summary>Adds a finished job's use (decaying what was there up to now).</summary>
    public Task AddAsync(string owner, double cpuSeconds, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            INSERT INTO scheduler.usage (owner, cpu_seconds, decayed_at) VALUES (@owner, @cpuSeconds, @now)
            ON CONFLICT (owner) DO UPDATE SET decayed_at = @now,
                cpu_seconds = usage.cpu_seconds * power(0.5, greatest(0, extract(epoch FROM @now - usage.decayed_at)) / @halfLife) + @cpuSeconds
            """, new { owner, cpuSeconds = Math.Max(0, cpuSeconds), now = clock.GetUtcNow(), halfLife = HalfLifeSeconds }, cancellationToken);

    /// <summary>The priority calculator for this moment: every user's share of the decayed use, and how many users share the cluster.</summary>
    public async Task<MultifactorPriority> PrioritiesAsync(int clusterCpuMillis, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var rows = await db.QueryAsync<UsageRow>("""
            SELECT owner, cpu_seconds * power(0.5, greatest(0, extract(epoch FROM @now - decayed_at)) / @halfLife) AS used FROM scheduler.usage
            UNION
            SELECT DISTINCT owner, 0 FROM scheduler.jobs WHERE status IN ('pending', 'scheduled', 'running')
            """, new { now, halfLife = HalfLifeSeconds }, cancellationToken);
        var used = rows.GroupBy(r => r.Owner).ToDictionary(g => g.Key, g => g.Sum(r => r.Used));
        var total = used.Values.Sum();
        var shares = used.ToDictionary(u => u.Key, u => total > 0 ? u.Value / total : 0);
        return new MultifactorPriority(options.Value, now, clusterCpuMillis, shares, used.Count);
    }

    sealed record UsageRow
    {
        public string Owner { get; init; } = "";
        public double Used { get; init; }
    }
}
