using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;
using Platform.Gateway.Identity;

namespace Platform.Gateway.Audit;

/// <summary>
/// Signed heads of the audit chain, CloudTrail-digest style: now and then the newest row's sequence and hash are signed
/// with the issuer's key, so a tail rewritten consistently (every hash recomputed) still disagrees with a signed head.
/// </summary>
public sealed class AuditHeads(NpgsqlDataSource db, AuditLog log, SigningKeys keys, TimeProvider clock)
{
    readonly JsonWebTokenHandler handler = new();

    /// <summary>Signs the current head unless it is signed already; its sequence, or null for an empty log.</summary>
    public async Task<long?> SignAsync(CancellationToken cancellationToken)
    {
        if (await log.HeadAsync(cancellationToken) is not { } head) return null;
        var now = clock.GetUtcNow();
        var signature = handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "platform-audit",
            Subject = new ClaimsIdentity([new Claim("seq", head.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)), new Claim("hash", Convert.ToHexString(head.Hash))]),
            IssuedAt = now.UtcDateTime,
            SigningCredentials = new SigningCredentials(keys.Current, SecurityAlgorithms.EcdsaSha256),
        });
        await using var command = db.CreateCommand("INSERT INTO identity.audit_heads (seq, hash, signed_at, signature) VALUES ($1, $2, $3, $4) ON CONFLICT (seq) DO NOTHING");
        foreach (var value in new object[] { head.Seq, head.Hash, now, signature }) command.Parameters.Add(new() { Value = value });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return head.Seq;
    }

    public async Task<IReadOnlyList<(long Seq, byte[] Hash, string Signature)>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT seq, hash, signature FROM identity.audit_heads ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var heads = new List<(long, byte[], string)>();
        while (await reader.ReadAsync(cancellationToken)) heads.Add((reader.GetInt64(0), (byte[])reader[1], reader.GetString(2)));
        return heads;
    }

    /// <summary>Whether the signature is the issuer's over exactly this sequence and hash.</summary>
    public async Task<bool> IsGenuineAsync((long Seq, byte[] Hash, string Signature) head)
    {
        var result = await handler.ValidateTokenAsync(head.Signature, new TokenValidationParameters
        {
            ValidIssuer = "platform-audit", ValidateAudience = false, ValidateLifetime = false, IssuerSigningKeys = keys.EveryKeyEver(),
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
        });
        return result.IsValid
            && result.Claims.TryGetValue("seq", out var seq) && seq?.ToString() == head.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture)
            && result.Claims.TryGetValue("hash", out var hash) && hash?.ToString() == Convert.ToHexString(head.Hash);
    }
}
