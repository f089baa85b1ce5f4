using System.Collections.Concurrent;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Telemetry.Storage;

/// <summary>
/// Maps series keys to ids (by <see cref="SeriesKey.Identity"/>), creating missing series inside the caller's
/// transaction. Ids are cached only once the caller reports its commit, so a rolled-back series never leaks into the cache.
/// </summary>
public sealed class SeriesCatalog
{
    readonly ConcurrentDictionary<string, long> committed = new();

    public async Task<Dictionary<string, long>> ResolveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<SeriesKey> keys, string agentId, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<string, long>(keys.Count);
        var unknown = new Dictionary<string, SeriesKey>();
        foreach (var key in keys)
        {
            if (key.Id != 0 || ids.ContainsKey(key.Identity)) continue;
            if (committed.TryGetValue(key.Identity, out var id)) ids[key.Identity] = id;
            else unknown.TryAdd(key.Identity, key);
        }
        if (unknown.Count == 0) return ids;
        var missing = unknown.Values.ToList();

        // ON CONFLICT makes concurrent creators of the same series converge on one row; the SELECT then reads it
        // whichever transaction inserted it.
        await using var batch = new NpgsqlBatch(connection, transaction);
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO telemetry.series (name, labels, labels_hash, agent_id)
            SELECT name, labels, labels_hash, $4 FROM unnest($1::text[], $2::jsonb[], $3::bytea[]) AS s(name, labels, labels_hash)
            ON CONFLICT (labels_hash) DO NOTHING
            """);
        insert.Parameters.Add(new() { Value = missing.Select(k => k.Name).ToArray() });
        insert.Parameters.Add(new() { Value = missing.Select(k => k.LabelsJson).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new() { Value = missing.Select(k => k.Hash).ToArray() });
        insert.Parameters.Add(new() { Value = agentId });
        var select = new NpgsqlBatchCommand("SELECT labels_hash, series_id FROM telemetry.series WHERE labels_hash = ANY($1)");
        select.Parameters.Add(new() { Value = missing.Select(k => k.Hash).ToArray() });
        batch.BatchCommands.Add(insert);
        batch.BatchCommands.Add(select);

        var byHash = missing.ToDictionary(k => Convert.ToHexString(k.Hash), k => k.Identity);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            ids[byHash[Convert.ToHexString(reader.GetFieldValue<byte[]>(0))]] = reader.GetInt64(1);
        return ids;
    }

    /// <summary>Called after the transaction that resolved <paramref name="ids"/> for <paramref name="keys"/> committed.</summary>
    public void Remember(IEnumerable<SeriesKey> keys, Dictionary<string, long> ids)
    {
        foreach (var (identity, id) in ids)
            committed.TryAdd(identity, id);
        foreach (var key in keys)
            if (key.Id == 0 && ids.TryGetValue(key.Identity, out var id))
                key.Id = id;
    }
}
