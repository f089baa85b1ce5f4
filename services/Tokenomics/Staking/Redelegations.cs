using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// Moves stake from one validator to another at once: the shares are sold at the source's price and bought at the
/// destination's, the tokens never leave the staking pool. The entry is kept for the unbonding period: a slash for an
/// earlier infraction of the source still reaches the stake where it went, and (Cosmos' rule) stake that arrived by
/// redelegation cannot move on again until then.
/// </summary>
public sealed class Redelegations(NpgsqlDataSource db)
{
    public Task<(RedelegationRow Redelegation, bool Replayed)> RedelegateAsync(string delegator, string source, string destination, long amount, string key,
        DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var requestedBy = $"user:{delegator}";
            var payload = $"{source}\u001f{destination}\u001f{amount}";
            await LedgerPostings.LockKeyAsync(connection, transaction, requestedBy, key, cancellationToken);
            var existing = await connection.QuerySingleOrDefaultAsync<KeyRow>(transaction.In(
                "SELECT payload, redelegation_id FROM tokenomics.redelegations WHERE requested_by = @requestedBy AND idempotency_key = @key", new { requestedBy, key }, cancellationToken));
            if (existing is not null)
            {
                if (existing.Payload != payload)
                    throw new DuplicateException("IDEMPOTENCY_CONFLICT", $"idempotency key '{key}' was used for another request (redelegation {existing.RedelegationId})");
                return (await connection.QuerySingleAsync<RedelegationRow>(transaction.In(
                    $"SELECT {RedelegationRow.Columns} FROM tokenomics.redelegations WHERE redelegation_id = @RedelegationId", existing, cancellationToken)), true);
            }
            var parameters = await ParameterStore.ReadAsync(connection, transaction, cancellationToken);
            var locked = (await DelegationBook.LockValidatorsAsync(connection, transaction, [source, destination], cancellationToken)).ToDictionary(v => v.Node);
            foreach (var node in new[] { source, destination }.Where(n => !locked.ContainsKey(n)))
                throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, $"node {node} is not a validator"));
            if (await connection.ExecuteScalarAsync<bool>(transaction.In("""
                    SELECT EXISTS (SELECT 1 FROM tokenomics.redelegations WHERE delegator = @delegator AND destination_node = @source AND completes_at > @now)
                    """, new { delegator, source, now }, cancellationToken)))
                throw new ConflictException("REDELEGATION_IN_PROGRESS", $"stake redelegated to {source} cannot move on until its redelegation completes");
            var delegation = await DelegationBook.DelegationAsync(connection, transaction, delegator, source, cancellationToken)
                             ?? throw new ConflictException("INSUFFICIENT_STAKE", $"{delegator} has no stake with {source}");
            var (_, tokens) = await DelegationBook.UnbondAsync(connection, transaction, locked[source], delegation,
                DelegationBook.SharesFor(locked[source], delegation, amount), now, cancellationToken);
            if (tokens == 0) throw new ConflictException("AMOUNT_TOO_SMALL", $"{amount} of {source}'s stake is worth no whole token at its price");
            var before = locked[destination].SharesValue;
            var after = await DelegationBook.BondAsync(connection, transaction, locked[destination], delegator, tokens, now, cancellationToken);
            var row = new RedelegationRow
            {
                RedelegationId = Guid.CreateVersion7(now), Delegator = delegator, SourceNode = source, DestinationNode = destination, InitialBalance = tokens,
                SharesDestination = FixedPoint.Format(after.SharesValue - before, FixedPoint.ShareScale), CreatedAt = now,
                CompletesAt = now + parameters.Seconds(PlatformParameters.UnbondingPeriodSeconds),
            };
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO tokenomics.redelegations (redelegation_id, delegator, source_node, destination_node, initial_balance, shares_destination, created_at, completes_at,
                    requested_by, idempotency_key, payload)
                VALUES (@RedelegationId, @Delegator, @SourceNode, @DestinationNode, @InitialBalance, @SharesDestination::numeric, @CreatedAt, @CompletesAt,
                    @requestedBy, @key, @payload)
                """, new { row.RedelegationId, row.Delegator, row.SourceNode, row.DestinationNode, row.InitialBalance, row.SharesDestination, row.CreatedAt, row.CompletesAt,
                requestedBy, key, payload }, cancellationToken));
            return (row, false);
        }, cancellationToken);

    sealed record KeyRow
    {
        public string Payload { get; init; } = "";
        public Guid RedelegationId { get; init; }
    }
}
