using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Tokenomics.Governance;

/// <summary>
/// Voting power is stake: the tokens a person's delegations are worth now, counted for them unless they gave their
/// vote to someone else (one level: a delegatee does not pass on what was delegated to them). A proposal copies every
/// voter's power in the statement that makes it, so its snapshot is one consistent instant.
/// </summary>
public sealed class VotingPowers(NpgsqlDataSource db)
{
    /// <summary>Each person's staked tokens now: their shares at each validator's price, rounded down (exactly: <c>div</c>).</summary>
    const string StakeNow = """
        stake AS (
            SELECT d.delegator, sum(div(d.shares * v.tokens, v.shares))::bigint AS tokens
            FROM tokenomics.delegations d JOIN tokenomics.validators v USING (node)
            WHERE v.shares > 0
            GROUP BY d.delegator)
        """;

    public static async Task<long> SnapshotAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long proposalId, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(transaction.In($"""
            WITH {StakeNow}
            INSERT INTO tokenomics.proposal_power (proposal_id, voter, power)
            SELECT @proposalId, coalesce(vd.delegatee, s.delegator), sum(s.tokens)
            FROM stake s LEFT JOIN tokenomics.vote_delegations vd ON vd.delegator = s.delegator
            GROUP BY 2 HAVING sum(s.tokens) > 0
            """, new { proposalId }, cancellationToken));
        return await connection.ExecuteScalarAsync<long>(transaction.In(
            "SELECT coalesce(sum(power), 0)::bigint FROM tokenomics.proposal_power WHERE proposal_id = @proposalId", new { proposalId }, cancellationToken));
    }

    public async Task<PowerRow> NowAsync(string voter, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<PowerRow>($"""
            WITH {StakeNow}
            SELECT @voter AS voter,
                   coalesce((SELECT tokens FROM stake WHERE delegator = @voter), 0)::bigint AS own_stake,
                   coalesce((SELECT delegatee FROM tokenomics.vote_delegations WHERE delegator = @voter), '') AS delegatee,
                   coalesce((SELECT sum(s.tokens) FROM stake s JOIN tokenomics.vote_delegations vd ON vd.delegator = s.delegator WHERE vd.delegatee = @voter), 0)::bigint
                       AS delegated_to_voter
            """, new { voter }, cancellationToken))!;

    /// <summary>Gives <paramref name="delegator"/>'s vote to <paramref name="delegatee"/>, or back to themselves when it is empty or themselves.</summary>
    public Task DelegateAsync(string delegator, string delegatee, DateTimeOffset now, CancellationToken cancellationToken) =>
        delegatee == "" || delegatee == delegator
            ? db.ExecuteAsync("DELETE FROM tokenomics.vote_delegations WHERE delegator = @delegator", new { delegator }, cancellationToken)
            : db.ExecuteAsync("""
                INSERT INTO tokenomics.vote_delegations (delegator, delegatee, updated_at) VALUES (@delegator, @delegatee, @now)
                ON CONFLICT (delegator) DO UPDATE SET delegatee = excluded.delegatee, updated_at = excluded.updated_at
                """, new { delegator, delegatee, now }, cancellationToken);
}

public sealed record PowerRow
{
    public string Voter { get; init; } = "";
    public long OwnStake { get; init; }
    public string Delegatee { get; init; } = "";
    public long DelegatedToVoter { get; init; }

    public V1.VotingPower ToMessage() => new()
    {
        Voter = Voter, OwnStake = OwnStake, Delegatee = Delegatee, DelegatedToVoter = DelegatedToVoter, Power = (Delegatee == "" ? OwnStake : 0) + DelegatedToVoter,
    };
}
