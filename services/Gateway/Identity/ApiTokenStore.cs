using Npgsql;

namespace Platform.Gateway.Identity;

/// <summary>An API or agent token as stored (never the token itself).</summary>
public sealed record ApiToken(Guid TokenId, string Display, string Name, string Kind, string Subject, string Role, string CreatedBy,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>API and agent tokens in <c>identity.api_tokens</c>, found by their SHA-256.</summary>
public sealed class ApiTokenStore(NpgsqlDataSource db, TimeProvider clock)
{
    const string Columns = "token_id, display, name, kind, subject, role, created_by, created_at, expires_at, last_used_at, revoked_at";

    public async Task<ApiToken> CreateAsync(string token, string name, string kind, string subject, string role, string createdBy, int? expiresInDays,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var command = db.CreateCommand($"""
            INSERT INTO identity.api_tokens (token_id, token_sha256, display, name, kind, subject, role, created_by, created_at, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {Columns}
            """);
        foreach (var value in new object?[] { Guid.NewGuid(), ApiTokenFormat.Digest(token), ApiTokenFormat.Display(token), name, kind, subject, role, createdBy, now })
            command.Parameters.Add(new() { Value = value });
        command.Parameters.Add(new() { Value = expiresInDays is { } days ? now.AddDays(days) : DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return Read(reader);
    }

    /// <summary>The live token with this text (not revoked, not expired), marking its use at most once a minute.</summary>
    public async Task<ApiToken?> FindLiveAsync(string token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            UPDATE identity.api_tokens SET last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < $2 - interval '1 minute' THEN $2 ELSE last_used_at END
            WHERE token_sha256 = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
            RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = ApiTokenFormat.Digest(token) });
        command.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    public async Task<IReadOnlyList<ApiToken>> ListAsync(string? createdBy, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM identity.api_tokens WHERE $1::text IS NULL OR created_by = $1 ORDER BY created_at");
        command.Parameters.Add(new() { Value = (object?)createdBy ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<ApiToken>();
        while (await reader.ReadAsync(cancellationToken)) tokens.Add(Read(reader));
        return tokens;
    }

    /// <summary>Revokes the token if <paramref name="createdBy"/> made it (null: anyone's, for admins); null when there is no such token.</summary>
    public async Task<ApiToken?> RevokeAsync(Guid tokenId, string? createdBy, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            UPDATE identity.api_tokens SET revoked_at = coalesce(revoked_at, $3)
            WHERE token_id = $1 AND ($2::text IS NULL OR created_by = $2) RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = tokenId });
        command.Parameters.Add(new() { Value = (object?)createdBy ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Revokes every API token a user made for itself (a deleted user's).</summary>
    public async Task RevokeAllOfAsync(string username, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("UPDATE identity.api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE kind = 'api' AND subject = $1");
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static ApiToken Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetString(6),
        r.GetFieldValue<DateTimeOffset>(7), r.IsDBNull(8) ? null : r.GetFieldValue<DateTimeOffset>(8), r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
        r.IsDBNull(10) ? null : r.GetFieldValue<DateTimeOffset>(10));
}
