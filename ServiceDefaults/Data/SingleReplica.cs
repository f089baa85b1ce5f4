using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// Lets exactly one replica do a periodic job: the one holding a session-level PostgreSQL advisory lock on a
/// connection of its own. If that connection breaks, the lock is released and another replica takes over.
/// </summary>
public sealed class SingleReplica(NpgsqlDataSource db, long lockKey, ILogger logger) : IAsyncDisposable
{
    NpgsqlConnection? holder;

    public async Task<bool> IsMineAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (holder is { State: System.Data.ConnectionState.Open })
            {
                await using var alive = new NpgsqlCommand("SELECT 1", holder);
                await alive.ExecuteScalarAsync(cancellationToken);
                return true;
            }
            holder = await db.OpenConnectionAsync(cancellationToken);
            await using var claim = new NpgsqlCommand($"SELECT pg_try_advisory_lock({lockKey})", holder);
            if ((bool)(await claim.ExecuteScalarAsync(cancellationToken))!) return true;
        }
        catch (NpgsqlException ex)
        {
            logger.LogWarning("Whether this replica holds lock {LockKey} is unknown ({Reason}); skipping this round", lockKey, ex.Message);
        }
        await DisposeAsync();
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (holder is not null) await holder.DisposeAsync();
        holder = null;
    }
}
