using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.Onion.Directory;

namespace Platform.Privacy.Relays;

/// <summary>The <c>privacy.consensus</c> table: every consensus signed, the newest served to clients.</summary>
public sealed class ConsensusStore(NpgsqlDataSource db)
{
    public sealed class ConsensusRow
    {
        public DateTimeOffset ValidAfter { get; init; }
        public DateTimeOffset FreshUntil { get; init; }
        public DateTimeOffset ValidUntil { get; init; }
        public string Body { get; init; } = "";
        public string Signature { get; init; } = "";
    }

    public async Task<ConsensusRow?> LatestAsync(CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<ConsensusRow>("""
            SELECT valid_after AS ValidAfter, fresh_until AS FreshUntil, valid_until AS ValidUntil, body, signature
            FROM privacy.consensus ORDER BY valid_after DESC LIMIT 1
            """, null, cancellationToken);

    /// <summary>The latest consensus as clients and relays fetch it, with the key that must have signed it.</summary>
    public async Task<V1.SignedConsensus> LatestSignedAsync(byte[] authorityKey, CancellationToken cancellationToken)
    {
        var latest = await LatestAsync(cancellationToken)
            ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.Unavailable, "the directory has not signed a consensus yet"));
        return new V1.SignedConsensus { Body = latest.Body, Signature = latest.Signature, AuthorityKey = Convert.ToBase64String(authorityKey) };
    }

    public async Task AddAsync(ConsensusDocument document, SignedDocument signed, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO privacy.consensus (valid_after, fresh_until, valid_until, body, signature)
            VALUES (@ValidAfter, @FreshUntil, @ValidUntil, @Body, @Signature) ON CONFLICT (valid_after) DO NOTHING
            """, new { document.ValidAfter, document.FreshUntil, document.ValidUntil, signed.Body, signed.Signature }, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM privacy.consensus WHERE valid_until < @cutoff",
            new { cutoff = document.ValidAfter.AddDays(-1) }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
    }
}
