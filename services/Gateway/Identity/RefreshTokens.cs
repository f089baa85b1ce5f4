using System.Security.Cryptography;
using Npgsql;

namespace Platform.Gateway.Identity;

/// <summary>
/// Refresh tokens in families (one family per login). Each use rotates the token; a rotated token presented again
/// means it was stolen or replayed, and the whole family is revoked (RFC 9700 §4.14). Only SHA-256 digests are stored.
/// </summary>
public sealed class RefreshTokens(NpgsqlDataSource db, TimeProvider clock)
{
    public enum Outcome { Rotated, Unknown, Expired, Reused }

    public async Task<string> StartFamilyAsync(string username, TimeSpan lifetime, CancellationToken cancellationToken) =>
        await InsertAsync(db, null, Guid.NewGuid(), username, lifetime, cancellationToken);

    /// <summary>
    /// Rotates <paramref name="token"/>: marks it used and issues its successor in the same family, in one transaction
    /// under the old row's lock, so two concurrent refreshes with one token cannot both succeed.
    /// </summary>
    public async Task<(Outcome Outcome, string? Username, string? Token)> RotateAsync(string token, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        Guid family;
        string username;
        await using (var find = new NpgsqlCommand("""
            SELECT family_id, username, expires_at, rotated_at IS NOT NULL OR revoked_at IS NOT NULL
            FROM identity.refresh_tokens WHERE token_sha256 = $1 FOR UPDATE
            """, connection, transaction))
        {
            find.Parameters.Add(new() { Value = Digest(token) });
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return (Outcome.Unknown, null, null);
            (family, username) = (reader.GetGuid(0), reader.GetString(1));
            var expired = reader.GetFieldValue<DateTimeOffset>(2) <= clock.GetUtcNow();
            var used = reader.GetBoolean(3);
            await reader.CloseAsync();
            if (used)
            {
                await RevokeFamilyAsync(connection, transaction, family, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return (Outcome.Reused, username, null);
            }
            if (expired) return (Outcome.Expired, username, null);
        }
        await using (var rotate = new NpgsqlCommand("UPDATE identity.refresh_tokens SET rotated_at = $2 WHERE token_sha256 = $1", connection, transaction))
        {
            rotate.Parameters.Add(new() { Value = Digest(token) });
            rotate.Parameters.Add(new() { Value = clock.GetUtcNow() });
            await rotate.ExecuteNonQueryAsync(cancellationToken);
        }
        var successor = await InsertAsync(connection, transaction, family, username, lifetime, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (Outcome.Rotated, username, successor);
    }

    /// <summary>Revokes the family <paramref name="token"/> belongs to; the user it belonged to, or null for an unknown token.</summary>
    public async Task<string?> RevokeFamilyOfAsync(string token, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            UPDATE identity.refresh_tokens SET revoked_at = coalesce(revoked_at, $2)
            WHERE family_id = (SELECT family_id FROM identity.refresh_tokens WHERE token_sha256 = $1) RETURNING username
            """);
        command.Parameters.Add(new() { Value = Digest(token) });
        command.Parameters.Add(new() { Value = clock.GetUtcNow() });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Revokes every session of the user but the family of <paramref name="keep"/>, if given.</summary>
    public async Task RevokeAllAsync(string username, string? keep, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("""
            UPDATE identity.refresh_tokens SET revoked_at = $2
            WHERE username = $1 AND revoked_at IS NULL
              AND family_id IS DISTINCT FROM (SELECT family_id FROM identity.refresh_tokens WHERE token_sha256 = $3)
            """);
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = clock.GetUtcNow() });
        command.Parameters.Add(new() { Value = keep is null ? [] : Digest(keep) });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task RevokeFamilyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid family, CancellationToken cancellationToken)
    {
        await using var revoke = new NpgsqlCommand("UPDATE identity.refresh_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE family_id = $1", connection, transaction);
        revoke.Parameters.Add(new() { Value = family });
        revoke.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await revoke.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task<string> InsertAsync(object connectionOrSource, NpgsqlTransaction? transaction, Guid family, string username, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var token = "rt_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        const string sql = "INSERT INTO identity.refresh_tokens (token_sha256, family_id, username, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)";
        await using var command = connectionOrSource is NpgsqlConnection connection ? new NpgsqlCommand(sql, connection, transaction) : ((NpgsqlDataSource)connectionOrSource).CreateCommand(sql);
        var now = clock.GetUtcNow();
        command.Parameters.Add(new() { Value = Digest(token) });
        command.Parameters.Add(new() { Value = family });
        command.Parameters.Add(new() { Value = username });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = now + lifetime });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return token;
    }

    static byte[] Digest(string token) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token));
}
