using Npgsql;

namespace Platform.Gateway.Audit;

/// <summary>
/// The hash-chained audit log in PostgreSQL. Appends are serialized by a transaction-scoped advisory lock, so every
/// replica's events form one line: each takes the last hash and sequence under the lock and commits its row with it.
/// </summary>
public sealed class AuditLog(NpgsqlDataSource db)
{
    const long ChainLock = 0x6175646974; // "audit"
    const string Columns = "seq, at, actor, role, action, target, status, client_ip, user_agent, request_id";
    public static readonly byte[] Genesis = new byte[32];

    static string Storable(string value)
    {
        var text = value.Replace("\0", "\\0", StringComparison.Ordinal);
        return text.Length > 1024 ? text[..1024] + "…" : text;
    }

    /// <summary>Appends the event to the chain and returns it as stored (its sequence number, its bounded fields).</summary>
    public async Task<AuditEvent> AppendAsync(AuditEvent draft, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockChain = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({ChainLock})", connection, transaction))
            await lockChain.ExecuteNonQueryAsync(cancellationToken);
        long seq = 0;
        var previous = Genesis;
        await using (var last = new NpgsqlCommand("SELECT seq, hash FROM identity.audit_log ORDER BY seq DESC LIMIT 1", connection, transaction))
        await using (var reader = await last.ExecuteReaderAsync(cancellationToken))
            if (await reader.ReadAsync(cancellationToken)) (seq, previous) = (reader.GetInt64(0), (byte[])reader[1]);
        var appended = draft with
        {
            Seq = seq + 1, At = Truncated(draft.At),
            // What callers sent is recorded as text PostgreSQL can store (a NUL would fail the insert after the answer
            // went out) and bounded (a 100 kB username is an attempt worth its first kilobyte).
            Actor = Storable(draft.Actor), Role = Storable(draft.Role), Action = Storable(draft.Action), Target = Storable(draft.Target),
            ClientIp = Storable(draft.ClientIp), UserAgent = Storable(draft.UserAgent), RequestId = Storable(draft.RequestId),
        };
        await using (var insert = new NpgsqlCommand($"INSERT INTO identity.audit_log ({Columns}, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", connection, transaction))
        {
            foreach (var value in new object[] { appended.Seq, appended.At, appended.Actor, appended.Role, appended.Action, appended.Target, appended.Status,
                         appended.ClientIp, appended.UserAgent, appended.RequestId, appended.Chain(previous) })
                insert.Parameters.Add(new() { Value = value });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return appended;
    }

    /// <summary>Events after <paramref name="afterSeq"/> matching the filters, oldest first, at most <paramref name="limit"/>.</summary>
    public async Task<IReadOnlyList<AuditEvent>> QueryAsync(string? actor, string? action, DateTimeOffset? since, DateTimeOffset? until, long afterSeq, int limit,
        CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT {Columns} FROM identity.audit_log
            WHERE seq > $1 AND ($2::text IS NULL OR actor = $2) AND ($3::text IS NULL OR action LIKE $3 || '%')
              AND ($4::timestamptz IS NULL OR at >= $4) AND ($5::timestamptz IS NULL OR at < $5)
            ORDER BY seq LIMIT $6
            """);
        command.Parameters.Add(new() { Value = afterSeq });
        command.Parameters.Add(new() { Value = (object?)actor ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)action ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)since ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = (object?)until ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<AuditEvent>();
        while (await reader.ReadAsync(cancellationToken)) events.Add(Read(reader));
        return events;
    }

    /// <summary>Every row with its stored hash, in order, for verification.</summary>
    public async IAsyncEnumerable<(AuditEvent Event, byte[] Hash)> ChainAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns}, hash FROM identity.audit_log ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) yield return (Read(reader), (byte[])reader[10]);
    }

    public async Task<(long Seq, byte[] Hash)?> HeadAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT seq, hash FROM identity.audit_log ORDER BY seq DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), (byte[])reader[1]) : null;
    }

    static AuditEvent Read(NpgsqlDataReader r) => new(r.GetInt64(0), r.GetFieldValue<DateTimeOffset>(1), r.GetString(2), r.GetString(3), r.GetString(4),
        r.GetString(5), r.GetInt32(6), r.GetString(7), r.GetString(8), r.GetString(9));

    /// <summary>PostgreSQL keeps microseconds: the hash is made of what will be read back.</summary>
    static DateTimeOffset Truncated(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);
}
