using StackExchange.Redis;

namespace Platform.ServiceDefaults.Auth;

/// <summary>
/// Agents whose credentials no longer count: a node an operator rejected. Compute, which decides admission, keeps the
/// set in Redis (and rebuilds it from its database at start); the issuer refuses to exchange their credentials and
/// Telemetry refuses their data, so a rejection takes effect at once everywhere, not when their last token expires.
/// Lookups are cached for two seconds per id: ingest asks per batch.
/// </summary>
public sealed class AgentRevocations(IConnectionMultiplexer redis, TimeProvider clock, Microsoft.Extensions.Configuration.IConfiguration configuration)
{
    /// <summary>The set's key: <c>platform:revoked-agents</c>, or <c>Cache:RevokedAgentsKey</c> (tests sharing one server keep their own).</summary>
    public string Key { get; } = configuration["Cache:RevokedAgentsKey"] is { Length: > 0 } key ? key : "platform:revoked-agents";
    static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(2);
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, (bool Revoked, DateTimeOffset Until)> cache = new();

    /// <summary>
    /// Whether the agent is revoked. With Redis unreachable the answer is the last one known, else no (logged by the
    /// cache's health check): refusing every agent would stop the platform, and Compute refuses a rejected node from its
    /// own database anyway.
    /// </summary>
    public async Task<bool> IsRevokedAsync(string agentId)
    {
        var now = clock.GetUtcNow();
        // While Redis is away the last answer stands, and no caller waits for a command timeout to learn it.
        if (cache.TryGetValue(agentId, out var known) && (now < known.Until || !redis.IsConnected)) return known.Revoked;
        if (!redis.IsConnected) return false;
        bool revoked;
        try { revoked = await redis.GetDatabase().SetContainsAsync(Key, agentId); }
        catch (Exception ex) when (ex is RedisException or TimeoutException) { return known.Revoked; }
        cache[agentId] = (revoked, now + CacheFor);
        return revoked;
    }

    public async Task RevokeAsync(string agentId)
    {
        await redis.GetDatabase().SetAddAsync(Key, agentId);
        cache.TryRemove(agentId, out _);
    }

    /// <summary>
    /// Replaces the whole list in one step (built aside, then renamed over it): nobody reads a half-rebuilt list.
    /// </summary>
    public async Task ReplaceAllAsync(IReadOnlyCollection<string> agentIds)
    {
        var database = redis.GetDatabase();
        if (agentIds.Count == 0)
        {
            await database.KeyDeleteAsync(Key);
        }
        else
        {
            var building = (RedisKey)$"{Key}:building:{Guid.NewGuid():N}";
            await database.SetAddAsync(building, [.. agentIds.Select(id => (RedisValue)id)]);
            await database.KeyRenameAsync(building, Key);
        }
        cache.Clear();
    }

    public async Task RestoreAsync(string agentId)
    {
        await redis.GetDatabase().SetRemoveAsync(Key, agentId);
        cache.TryRemove(agentId, out _);
    }
}
