using Dapper;
using Grpc.Core;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;

namespace Platform.Tokenomics.Governance;

/// <summary>
/// Proposals and votes. Each change is one transaction under the proposal's row lock, and checks the state the clock
/// and the tallies give it at that moment: a vote lands only while Active, a cancel only while Pending, a queue only
/// once Succeeded, an execution only once Queued and past its timelock.
/// </summary>
public sealed class ProposalStore(NpgsqlDataSource db)
{
    public Task<ProposalRow> CreateAsync(string proposer, string title, string description, string actions, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var parameters = await ParameterStore.ReadAsync(connection, transaction, cancellationToken);
            var voteStart = now + parameters.Seconds(PlatformParameters.VotingDelaySeconds);
            var id = await connection.ExecuteScalarAsync<long>(transaction.In("""
                INSERT INTO tokenomics.proposals (proposer, title, description, actions, created_at, vote_start, vote_end, timelock_seconds, grace_seconds, total_power, quorum)
                VALUES (@proposer, @title, @description, @actions::jsonb, @now, @voteStart, @voteEnd, @timelock, @grace, 0, 0)
                RETURNING proposal_id
                """, new
            {
                proposer, title, description, actions, now, voteStart, voteEnd = voteStart + parameters.Seconds(PlatformParameters.VotingPeriodSeconds),
                timelock = parameters[PlatformParameters.TimelockSeconds], grace = parameters[PlatformParameters.GracePeriodSeconds],
            }, cancellationToken));
            var total = await VotingPowers.SnapshotAsync(connection, transaction, id, cancellationToken);
            var own = await connection.ExecuteScalarAsync<long?>(transaction.In(
                "SELECT power FROM tokenomics.proposal_power WHERE proposal_id = @id AND voter = @proposer", new { id, proposer }, cancellationToken)) ?? 0;
            var threshold = parameters[PlatformParameters.ProposalThreshold];
            if (own < threshold)
                throw new ConflictException("BELOW_PROPOSAL_THRESHOLD", $"{proposer} has {own} voting power; a proposal needs {threshold}");
            var quorum = (long)Math.Ceiling(total * parameters[PlatformParameters.QuorumFraction]);
            await connection.ExecuteAsync(transaction.In("UPDATE tokenomics.proposals SET total_power = @total, quorum = @quorum WHERE proposal_id = @id",
                new { total, quorum, id }, cancellationToken));
            return (await LockAsync(connection, transaction, id, cancellationToken))!;
        }, cancellationToken);

    public Task<ProposalRow?> GetAsync(long id, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<ProposalRow>($"SELECT {ProposalRow.Columns} FROM tokenomics.proposals WHERE proposal_id = @id", new { id }, cancellationToken);

    public Task<IReadOnlyList<ProposalRow>> ListAsync(int limit, CancellationToken cancellationToken) =>
        db.QueryAsync<ProposalRow>($"SELECT {ProposalRow.Columns} FROM tokenomics.proposals ORDER BY proposal_id DESC LIMIT @limit", new { limit }, cancellationToken);

    public Task<(ProposalRow Proposal, long Weight)> VoteAsync(long id, string voter, string support, string reason, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var proposal = Require(await LockAsync(connection, transaction, id, cancellationToken), id);
            EnsureState(proposal, now, "voted on", ProposalStates.Active);
            var weight = await connection.ExecuteScalarAsync<long?>(transaction.In(
                "SELECT power FROM tokenomics.proposal_power WHERE proposal_id = @id AND voter = @voter", new { id, voter }, cancellationToken))
                ?? throw new ConflictException("NO_VOTING_POWER", $"{voter} had no voting power at proposal {id}'s snapshot ({proposal.CreatedAt:O}): stake (or a delegated vote) counts from the next proposal");
            var cast = await connection.ExecuteAsync(transaction.In("""
                INSERT INTO tokenomics.votes (proposal_id, voter, support, weight, reason, cast_at) VALUES (@id, @voter, @support, @weight, @reason, @now) ON CONFLICT DO NOTHING
                """, new { id, voter, support, weight, reason, now }, cancellationToken));
            if (cast == 0) throw new DuplicateException("ALREADY_VOTED", $"{voter} has voted on proposal {id} already");
            await connection.ExecuteAsync(transaction.In($"UPDATE tokenomics.proposals SET {support}_votes = {support}_votes + @weight WHERE proposal_id = @id",
                new { weight, id }, cancellationToken));
            return ((await LockAsync(connection, transaction, id, cancellationToken))!, weight);
        }, cancellationToken);

    public Task<ProposalRow> CancelAsync(long id, string caller, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var proposal = Require(await LockAsync(connection, transaction, id, cancellationToken), id);
            if (proposal.Proposer != caller) throw new RpcException(new Status(StatusCode.PermissionDenied, $"only its proposer ({proposal.Proposer}) cancels proposal {id}"));
            if (proposal.State(now) == ProposalStates.Canceled) return proposal;
            EnsureState(proposal, now, "canceled", ProposalStates.Pending);
            return await SetAsync(connection, transaction, id, "canceled_at = @now", new { id, now }, cancellationToken);
        }, cancellationToken);

    public Task<ProposalRow> QueueAsync(long id, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync(async (connection, transaction) =>
        {
            var proposal = Require(await LockAsync(connection, transaction, id, cancellationToken), id);
            if (proposal.QueuedAt is not null && proposal.State(now) is ProposalStates.Queued) return proposal;
            EnsureState(proposal, now, "queued", ProposalStates.Succeeded);
            return await SetAsync(connection, transaction, id, "queued_at = @now, eta = @eta",
                new { id, now, eta = now + TimeSpan.FromSeconds((double)proposal.TimelockSeconds) }, cancellationToken);
        }, cancellationToken);

    /// <summary>
    /// Executes a Queued proposal past its timelock: <paramref name="carryOut"/> performs the actions other services
    /// own while the proposal is locked; this service's parameters change in the same transaction that marks it
    /// Executed. When <paramref name="carryOut"/> fails, the proposal stays Queued with the reason, and may be executed again.
    /// </summary>
    public async Task<(ProposalRow Proposal, bool Replayed)> ExecuteAsync(long id, DateTimeOffset now, Func<ProposalRow, Task> carryOut, CancellationToken cancellationToken)
    {
        try
        {
            return await db.InTransactionAsync(async (connection, transaction) =>
            {
                var proposal = Require(await LockAsync(connection, transaction, id, cancellationToken), id);
                if (proposal.ExecutedAt is not null) return (proposal, true);
                EnsureState(proposal, now, "executed", ProposalStates.Queued);
                if (now < proposal.Eta)
                    throw new ConflictException("TIMELOCKED", $"proposal {id} may be executed from {proposal.Eta:O}, when its timelock ends");
                await carryOut(proposal);
                foreach (var change in proposal.ParsedActions.Where(a => a.Parameter is not null).Select(a => a.Parameter))
                    await ParameterStore.SetAsync(connection, transaction, change.Name, ProposalRules.Value(change), $"proposal {id}", now, cancellationToken);
                return (await SetAsync(connection, transaction, id, "executed_at = @now, execution_error = ''", new { id, now }, cancellationToken), false);
            }, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.NotFound)
        {
            await db.ExecuteAsync("UPDATE tokenomics.proposals SET execution_error = @error WHERE proposal_id = @id AND executed_at IS NULL",
                new { id, error = $"{ex.StatusCode}: {ex.Status.Detail}" }, cancellationToken);
            throw;
        }
    }

    static Task<ProposalRow?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, CancellationToken cancellationToken) =>
        connection.QuerySingleOrDefaultAsync<ProposalRow>(transaction.In(
            $"SELECT {ProposalRow.Columns} FROM tokenomics.proposals WHERE proposal_id = @id FOR UPDATE", new { id }, cancellationToken));

    static async Task<ProposalRow> SetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, string change, object parameters, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(transaction.In($"UPDATE tokenomics.proposals SET {change} WHERE proposal_id = @id", parameters, cancellationToken));
        return (await LockAsync(connection, transaction, id, cancellationToken))!;
    }

    static ProposalRow Require(ProposalRow? proposal, long id) =>
        proposal ?? throw new RpcException(new Status(StatusCode.NotFound, $"proposal {id} does not exist"));

    static void EnsureState(ProposalRow proposal, DateTimeOffset now, string action, string wanted)
    {
        var state = proposal.State(now);
        if (state != wanted)
            throw new ConflictException("PROPOSAL_STATE", $"proposal {proposal.ProposalId} is {state}: only a {wanted} proposal can be {action}");
    }
}
