using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.Tokenomics.Parameters;
using StackExchange.Redis;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// Proves downtime from Compute's lease lapses (its <c>node.not_ready</c> events): each is recorded once; when a
/// validator has let <c>downtime_max_missed_leases</c> lapse within <c>downtime_window_seconds</c>, it is slashed for
/// downtime and jailed, the evidence being the lapse that crossed the line (so replicas that all hear it slash once).
/// A jailed validator is not slashed again for downtime until it is unjailed (Cosmos' rule). Events are trusted as
/// Compute's: whoever can publish on the platform's Redis can report a lapse.
/// </summary>
public sealed class DowntimeWatch(IConnectionMultiplexer cache, NpgsqlDataSource db, Slashing slashing, ValidatorStore validators, EventPublisher events,
    ParameterStore parameters, TimeProvider clock, ILogger<DowntimeWatch> logger) : BackgroundService
{
    readonly Channel<(string EventId, string Node, DateTimeOffset At)> lapses = Channel.CreateBounded<(string, string, DateTimeOffset)>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await cache.SubscribeEventsAsync("nodes", (_, message) =>
            {
                if (Parse(message) is { } lapse) lapses.Writer.TryWrite(lapse);
            });
        }
        catch (RedisException ex)
        {
            logger.LogWarning("Downtime is not watched until the Redis-protocol server answers: {Reason}", ex.Message);
        }
        await foreach (var lapse in lapses.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await RecordAsync(lapse.EventId, lapse.Node, lapse.At, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Lease lapse {EventId} of {Node} not recorded", lapse.EventId, lapse.Node);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await cache.UnsubscribeEventsAsync("nodes");
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Records one lapse and slashes when it proves downtime; answers the slash when there was one.</summary>
    public async Task<SlashRow?> RecordAsync(string eventId, string node, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (await validators.GetAsync(node, cancellationToken) is not { } validator) return null;
        await db.ExecuteAsync("INSERT INTO tokenomics.missed_leases (event_id, node, missed_at) VALUES (@eventId, @node, @at) ON CONFLICT DO NOTHING",
            new { eventId, node, at }, cancellationToken);
        var now = clock.GetUtcNow();
        if (validator.IsJailed) return null;
        var values = await parameters.ReadAsync(cancellationToken);
        var window = values.Seconds(PlatformParameters.DowntimeWindowSeconds);
        // Lapses before the last downtime slash were paid for by it: each slash needs a window of its own.
        var missed = await db.QuerySingleOrDefaultAsync<long>("""
            SELECT count(*) FROM tokenomics.missed_leases
            WHERE node = @node AND missed_at > @since AND missed_at <= @at
              AND missed_at > coalesce((SELECT max(slashed_at) FROM tokenomics.slashes WHERE node = @node AND reason = 'downtime'), '-infinity')
            """, new { node, since = at - window, at }, cancellationToken);
        if (missed < values[PlatformParameters.DowntimeMaxMissedLeases]) return null;
        var (slash, replayed) = await slashing.SlashAsync(node, Slashing.Downtime, $"lease lapse {eventId} ({missed} within {window.TotalSeconds:0} s)", at, now, cancellationToken);
        if (replayed) return slash;
        logger.LogWarning("Validator {Node} slashed {Amount} and jailed until {JailedUntil:O}: {Missed} leases missed within {Window}", node, slash.Amount, slash.JailedUntil, missed, window);
        await events.PublishAsync("ledger", "validator.slashed", slash.ToMessage());
        return slash;
    }

    /// <summary>A <c>node.not_ready</c> event from Compute: its id, the node's name and when.</summary>
    static (string, string, DateTimeOffset)? Parse(RedisValue message)
    {
        try
        {
            using var json = JsonDocument.Parse(message.ToString());
            var root = json.RootElement;
            if (root.GetProperty("type").GetString() != "node.not_ready" || root.GetProperty("source").GetString() != "compute") return null;
            var name = root.GetProperty("data").GetProperty("name").GetString();
            var id = root.GetProperty("id").GetString();
            return name is null || id is null ? null : (id, name, root.GetProperty("time").GetDateTimeOffset());
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
