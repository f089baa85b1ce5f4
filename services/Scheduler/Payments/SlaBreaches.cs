using Dapper;
using Grpc.Core;
using Npgsql;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.ServiceDefaults.Data;
using Platform.Tokenomics.V1;

namespace Platform.Scheduler.Payments;

/// <summary>
/// SLA breaches, as the token economy's slashing hears of them: a node that lost a job it was running (its lease
/// lapsed, <c>node-lost</c>) while the job could still meet its deadline breached that job's SLA once the job missed
/// it — the node took the work and did not deliver (a job already late when lost was not made late by that node). Each such placement is reported once to Tokenomics' <c>SlashValidator</c> with reason <c>sla</c>, the
/// job and attempt as evidence (Tokenomics slashes once per evidence, so a report repeated after a crash burns
/// nothing more) and the loss as the infraction's time; what came of it (slashed, not a validator, too old) is kept.
/// A report Tokenomics cannot take now is tried again next round.
/// </summary>
public sealed class SlaBreaches(NpgsqlDataSource db, Staking.StakingClient staking, ClusterReader cluster, TimeProvider clock,
    ILogger<SlaBreaches> logger)
{
    public async Task ReportAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var breaches = await db.QueryAsync<Breach>($"""
            SELECT lost.job_id, lost.attempt, lost.at AS lost_at, j.deadline,
                   (SELECT t.node_id FROM scheduler.job_transitions t
                    WHERE t.job_id = lost.job_id AND t.attempt = lost.attempt AND t.node_id IS NOT NULL
                    ORDER BY t.transition_id DESC LIMIT 1) AS node_id
            FROM scheduler.job_transitions lost JOIN scheduler.jobs j USING (job_id)
            WHERE lost.reason = '{JobReasons.NodeLost}' AND j.deadline IS NOT NULL AND j.status <> '{JobStates.Cancelled}'
              AND lost.at <= j.deadline AND coalesce(j.finished_at, @now) > j.deadline
              AND NOT EXISTS (SELECT 1 FROM scheduler.sla_breaches b WHERE b.job_id = lost.job_id AND b.attempt = lost.attempt)
            ORDER BY lost.transition_id LIMIT 100
            """, new { now }, cancellationToken);
        if (breaches.Count == 0) return;
        Dictionary<Guid, string> names;
        try
        {
            names = (await cluster.NodesAsync(cancellationToken)).ToDictionary(n => n.NodeId, n => n.Name);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("SLA breaches not reported this round: Compute did not list the nodes ({Status}: {Detail})", ex.StatusCode, ex.Status.Detail);
            return;
        }
        foreach (var breach in breaches)
        {
            if (breach.NodeId is not { } nodeId || !names.TryGetValue(nodeId, out var node))
            {
                await RecordAsync(breach, breach.NodeId?.ToString() ?? "", "the node is no longer registered", cancellationToken);
                continue;
            }
            string outcome;
            try
            {
                var slash = await staking.SlashValidatorAsync(new SlashRequest
                {
                    Node = node, Reason = "sla", InfractionAtMs = breach.LostAt.ToUnixTimeMilliseconds(),
                    Evidence = $"job {breach.JobId} attempt {breach.Attempt} lost with {node}; deadline {breach.Deadline:O} missed",
                }, cancellationToken: cancellationToken);
                outcome = $"slashed {slash.Amount}";
                logger.LogWarning("SLA breach by {Node}: job {JobId} attempt {Attempt} lost, deadline {Deadline:O} missed; its validator was slashed {Amount}",
                    node, breach.JobId, breach.Attempt, breach.Deadline, slash.Amount);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.InvalidArgument)
            {
                // Not a validator (nobody staked on it), or the loss is older than the unbonding period: nothing to slash.
                outcome = ex.Status.Detail.Length > 200 ? ex.Status.Detail[..200] : ex.Status.Detail;
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("SLA breach by {Node} (job {JobId} attempt {Attempt}) not reported this round ({Status}: {Detail})",
                    node, breach.JobId, breach.Attempt, ex.StatusCode, ex.Status.Detail);
                continue;
            }
            await RecordAsync(breach, node, outcome, cancellationToken);
        }
    }

    Task RecordAsync(Breach breach, string node, string outcome, CancellationToken cancellationToken) =>
        db.ExecuteAsync("""
            INSERT INTO scheduler.sla_breaches (job_id, attempt, node_name, lost_at, outcome, reported_at)
            VALUES (@JobId, @Attempt, @node, @LostAt, @outcome, @now) ON CONFLICT DO NOTHING
            """, new { breach.JobId, breach.Attempt, node, breach.LostAt, outcome, now = clock.GetUtcNow() }, cancellationToken);

    sealed record Breach
    {
        public Guid JobId { get; init; }
        public int Attempt { get; init; }
        public DateTimeOffset LostAt { get; init; }
        public DateTimeOffset Deadline { get; init; }
        public Guid? NodeId { get; init; }
    }
}
