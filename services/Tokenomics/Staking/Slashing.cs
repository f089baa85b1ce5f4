using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// Burns a fraction of what a validator had at stake when it misbehaved, once per piece of evidence (Cosmos'
/// x/slashing): first from the unbonding entries and redelegations that left it at or after the infraction (they were
/// at stake then), the rest from its tokens — which lowers every delegator's stake by the same fraction without
/// touching a row of theirs. Downtime also jails it: it earns nothing until its operator unjails it after the jail time.
/// </summary>
public sealed class Slashing(NpgsqlDataSource db)
{
    public const string Downtime = "downtime";
    public const string SlaBreach = "sla";

    public Task<(SlashRow Slash, bool Replayed)> SlashAsync(string node, string reason, string evidence, DateTimeOffset infractionAt, DateTimeOffset now,
        CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            // Lock first, then read what left the validator since the infraction (a redelegation committed meanwhile is seen).
            var validators = (await DelegationBook.LockValidatorsAsync(connection, transaction, [node], cancellationToken)).ToDictionary(v => v.Node);
            if (!validators.ContainsKey(node)) throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, $"node {node} is not a validator"));
            var redelegations = (await connection.QueryAsync<RedelegationRow>(transaction.In($"""
                SELECT {RedelegationRow.Columns} FROM tokenomics.redelegations
                WHERE source_node = @node AND created_at >= @infractionAt AND completes_at > @now ORDER BY redelegation_id
                """, new { node, infractionAt, now }, cancellationToken))).ToList();
            foreach (var destination in await DelegationBook.LockValidatorsAsync(connection, transaction, redelegations.Select(r => r.DestinationNode), cancellationToken))
                validators[destination.Node] = destination;
            var earlier = await connection.QuerySingleOrDefaultAsync<SlashRow>(transaction.In(
                $"SELECT {SlashRow.Columns} FROM tokenomics.slashes WHERE node = @node AND reason = @reason AND evidence = @evidence", new { node, reason, evidence }, cancellationToken));
            if (earlier is not null) return (earlier, true);
            // A jailed validator is not slashed again for downtime until it is unjailed (Cosmos' rule).
            if (reason == Downtime && validators[node].JailedUntil is not null
                && await connection.QuerySingleOrDefaultAsync<SlashRow>(transaction.In(
                    $"SELECT {SlashRow.Columns} FROM tokenomics.slashes WHERE node = @node AND reason = 'downtime' ORDER BY slashed_at DESC LIMIT 1", new { node }, cancellationToken))
                    is { } jailedFor)
                return (jailedFor, true);

            var parameters = await ParameterStore.ReadAsync(connection, transaction, cancellationToken);
            var fraction = parameters[reason == Downtime ? PlatformParameters.DowntimeSlashFraction : PlatformParameters.SlaSlashFraction];
            // Older than the unbonding period, the stake at risk then may have left for good: it is too late to prove.
            if (infractionAt < now - parameters.Seconds(PlatformParameters.UnbondingPeriodSeconds))
                throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.InvalidArgument,
                    $"infraction_at_ms: older than the unbonding period ({parameters[PlatformParameters.UnbondingPeriodSeconds]} s): the stake at risk then may be gone"));
            var unbondings = (await connection.QueryAsync<UnbondingRow>(transaction.In($"""
                SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings
                WHERE node = @node AND state = 'unbonding' AND created_at >= @infractionAt AND completes_at > @now ORDER BY unbonding_id FOR UPDATE
                """, new { node, infractionAt, now }, cancellationToken))).ToList();

            // What each entry owes is its nominal share (Cosmos): what an entry cannot pay is not passed to those still bonded.
            long fromUnbonding = 0, fromRedelegated = 0, owedByEntries = 0;
            foreach (var entry in unbondings)
            {
                owedByEntries += (long)(entry.InitialBalance * fraction);
                var cut = Math.Min(entry.Balance, (long)(entry.InitialBalance * fraction));
                if (cut == 0) continue;
                fromUnbonding += cut;
                await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.unbondings SET balance = balance - @cut WHERE unbonding_id = @UnbondingId",
                    new { cut, entry.UnbondingId }, cancellationToken));
            }
            foreach (var moved in redelegations)
            {
                owedByEntries += (long)(moved.InitialBalance * fraction);
                var destination = validators[moved.DestinationNode];
                var delegation = await DelegationBook.DelegationAsync(connection, transaction, moved.Delegator, moved.DestinationNode, cancellationToken);
                if (delegation is null) continue; // unbonded since: its unbonding entry is the destination's to slash
                var shares = System.Numerics.BigInteger.Min(delegation.SharesValue,
                    FixedPoint.Parse(moved.SharesDestination, FixedPoint.ShareScale) * FixedPoint.Parse(fraction.ToString(System.Globalization.CultureInfo.InvariantCulture), FixedPoint.ShareScale) / FixedPoint.OneShare);
                if (shares.IsZero) continue;
                var (after, tokens) = await DelegationBook.UnbondAsync(connection, transaction, destination, delegation, shares, now, cancellationToken);
                validators[moved.DestinationNode] = after;
                fromRedelegated += tokens;
            }

            var validator = validators[node];
            // At stake then: what is bonded now less what arrived since, plus what left since.
            var bondedSince = await connection.ExecuteScalarAsync<long>(transaction.In(
                "SELECT coalesce(sum(amount), 0)::bigint FROM tokenomics.bonds WHERE node = @node AND bonded_at >= @infractionAt", new { node, infractionAt }, cancellationToken));
            var atStake = Math.Max(0, validator.Tokens - bondedSince) + unbondings.Sum(u => u.InitialBalance) + redelegations.Sum(r => r.InitialBalance);
            var fromStake = Math.Clamp((long)(atStake * fraction) - owedByEntries, 0, validator.Tokens);
            var jailedUntil = reason == Downtime ? now + parameters.Seconds(PlatformParameters.JailSeconds) : validator.JailedUntil;
            await DelegationBook.WriteValidatorAsync(connection, transaction, validator with
            {
                Tokens = validator.Tokens - fromStake, Slashed = validator.Slashed + fromStake + fromUnbonding + fromRedelegated,
                JailedUntil = jailedUntil > validator.JailedUntil || validator.JailedUntil is null ? jailedUntil : validator.JailedUntil,
            }, cancellationToken);
            var memo = $"{reason} slash of {node}: {evidence}";
            if (fromStake + fromRedelegated > 0)
                await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Slash, SystemAccounts.StakingPool, SystemAccounts.Issuance,
                    fromStake + fromRedelegated, memo[..Math.Min(memo.Length, 256)], now), cancellationToken);
            if (fromUnbonding > 0)
                await LedgerPostings.PostAsync(connection, transaction, TransferRequests.Internal(TransferKinds.Slash, SystemAccounts.UnbondingPool, SystemAccounts.Issuance,
                    fromUnbonding, memo[..Math.Min(memo.Length, 256)], now), cancellationToken);
            var slash = new SlashRow
            {
                SlashId = Guid.CreateVersion7(now), Node = node, Reason = reason, Evidence = evidence, Fraction = fraction, InfractionAt = infractionAt, SlashedAt = now,
                Amount = fromStake + fromUnbonding + fromRedelegated, JailedUntil = reason == Downtime ? jailedUntil : null,
            };
            await connection.ExecuteAsync(transaction.In($"""
                INSERT INTO tokenomics.slashes ({SlashRow.Columns})
                VALUES (@SlashId, @Node, @Reason, @Evidence, @Fraction, @InfractionAt, @SlashedAt, @Amount, @JailedUntil)
                """, slash, cancellationToken));
            return (slash, false);
        }, cancellationToken);
}

/// <summary>A row of <c>tokenomics.slashes</c>.</summary>
public sealed record SlashRow
{
    public const string Columns = "slash_id, node, reason, evidence, fraction, infraction_at, slashed_at, amount, jailed_until";

    public Guid SlashId { get; init; }
    public string Node { get; init; } = "";
    public string Reason { get; init; } = "";
    public string Evidence { get; init; } = "";
    public decimal Fraction { get; init; }
    public DateTimeOffset InfractionAt { get; init; }
    public DateTimeOffset SlashedAt { get; init; }
    public long Amount { get; init; }
    public DateTimeOffset? JailedUntil { get; init; }

    public V1.Slash ToMessage(bool replayed = false) => new()
    {
        SlashId = SlashId.ToString(), Node = Node, Reason = Reason, Evidence = Evidence, Fraction = Fraction.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Amount = Amount, JailedUntilMs = JailedUntil?.ToUnixTimeMilliseconds() ?? 0, SlashedAtMs = SlashedAt.ToUnixTimeMilliseconds(), Replayed = replayed,
    };
}
