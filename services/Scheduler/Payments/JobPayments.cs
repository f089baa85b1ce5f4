using Dapper;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.ServiceDefaults.Data;
using Platform.Tokenomics.V1;

namespace Platform.Scheduler.Payments;

/// <summary>
/// The token economy's side of a job (two-phase, TigerBeetle's way): placing a job reserves its price from its owner's
/// account for the node's operator — a pending transfer whose key is the placement's, so a retry reserves nothing
/// twice; when the placement ends, <see cref="SettleAsync"/> posts what the run used (its measured runtime at the
/// node's price, at most what was reserved) or, when the job never ran there through no doing of its owner (node lost,
/// never started, preempted, refused), voids it. Settling follows the jobs' recorded state each round, so a
/// Tokenomics that was away is caught up with; a reservation never settled lapses at its timeout in the ledger.
/// </summary>
public sealed class JobPayments(NpgsqlDataSource db, Tokenomics.V1.Tokenomics.TokenomicsClient ledger, IOptions<PaymentOptions> options,
    IOptions<PlacementOptions> placement, TimeProvider clock, ILogger<JobPayments> logger)
{
    /// <summary>The ledger's longest reservation: 30 days.</summary>
    const long MaxTimeoutSeconds = 30 * 86400;

    public bool Enabled => options.Value.Enabled;

    /// <summary>Reserves the placement's price; false when the owner cannot pay it (the ledger said why in <paramref name="refusal"/>).</summary>
    public async Task<(bool Reserved, string Refusal)> ReserveAsync(JobRow job, ClusterNode node, CancellationToken cancellationToken)
    {
        if (!Enabled) return (true, "");
        var seconds = job.MaxRuntimeS > 0 ? job.MaxRuntimeS : job.EstimatedRuntimeS > 0 ? job.EstimatedRuntimeS : (long)options.Value.DefaultReservation.TotalSeconds;
        var price = Price(job, node.PricePerCoreHour, seconds);
        if (price == 0) return (true, "");
        Transfer reserved;
        try
        {
            reserved = await ledger.CreateTransferAsync(new CreateTransferRequest
            {
                IdempotencyKey = $"{job.DispatchKey}-price", DebitAccountId = $"user:{job.Owner}", CreditAccountId = $"operator:{node.Name}", Amount = price, Pending = true,
                TimeoutSeconds = Math.Min(MaxTimeoutSeconds, seconds + (long)placement.Value.StartTimeout.TotalSeconds + 3600), Memo = $"job {job.JobId} attempt {job.Attempts} on {node.Name}",
            }, cancellationToken: cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.Aborted or StatusCode.FailedPrecondition or StatusCode.InvalidArgument)
        {
            return (false, ex.Status.Detail);
        }
        await db.ExecuteAsync("""
            INSERT INTO scheduler.job_payments (job_id, attempt, node_name, transfer_id, reserved, reserved_seconds, state, reserved_at)
            VALUES (@JobId, @Attempts, @name, @transferId, @price, @seconds, 'reserved', @now) ON CONFLICT DO NOTHING
            """, new { job.JobId, job.Attempts, name = node.Name, transferId = Guid.Parse(reserved.TransferId), price, seconds, now = clock.GetUtcNow() }, cancellationToken);
        logger.LogInformation("Job {JobId} attempt {Attempt}: {Price} reserved from user:{Owner} for operator:{Node}", job.JobId, job.Attempts, price, job.Owner, node.Name);
        return (true, "");
    }

    /// <summary>Posts or voids every reservation whose placement has ended; one the ledger cannot settle now is tried next round.</summary>
    public async Task SettleAsync(CancellationToken cancellationToken)
    {
        var open = await db.QueryAsync<OpenPayment>("""
            SELECT p.job_id, p.attempt, p.transfer_id, p.reserved, p.reserved_seconds, p.node_name, j.status, j.reason, j.attempts, j.cpu_millis, j.started_at, j.finished_at
            FROM scheduler.job_payments p JOIN scheduler.jobs j USING (job_id)
            WHERE p.state = 'reserved' AND (j.attempts > p.attempt OR j.status IN ('completed', 'failed', 'cancelled', 'timeout'))
            ORDER BY p.reserved_at LIMIT 500
            """, null, cancellationToken);
        foreach (var payment in open)
        {
            var used = payment.UsedSeconds();
            var amount = used is { } seconds ? Math.Min(payment.Reserved, Math.Max(1, (long)Math.Ceiling((double)payment.Reserved * seconds / payment.ReservedSeconds))) : 0;
            try
            {
                var request = new ResolveTransferRequest { TransferId = payment.TransferId.ToString(), Amount = amount };
                var settled = used is null ? await ledger.VoidTransferAsync(request, cancellationToken: cancellationToken) : await ledger.PostTransferAsync(request, cancellationToken: cancellationToken);
                await db.ExecuteAsync("UPDATE scheduler.job_payments SET state = @State, posted = @posted, settled_at = @now WHERE job_id = @JobId AND attempt = @Attempt",
                    new { settled.State, posted = settled.State == "posted" ? settled.Amount : 0, now = clock.GetUtcNow(), payment.JobId, payment.Attempt }, cancellationToken);
                logger.LogInformation("Job {JobId} attempt {Attempt}: payment {State} ({Amount} of {Reserved} to operator:{Node})",
                    payment.JobId, payment.Attempt, settled.State, settled.State == "posted" ? settled.Amount : 0, payment.Reserved, payment.NodeName);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Aborted && ex.Status.Detail.Contains("is voided", StringComparison.Ordinal))
            {
                // The reservation lapsed at its timeout before it was settled (Tokenomics away that long): nothing moved.
                await db.ExecuteAsync("UPDATE scheduler.job_payments SET state = 'voided', settled_at = @now WHERE job_id = @JobId AND attempt = @Attempt",
                    new { now = clock.GetUtcNow(), payment.JobId, payment.Attempt }, cancellationToken);
                logger.LogWarning("Payment of job {JobId} attempt {Attempt} lapsed in the ledger before it was settled: nothing was paid", payment.JobId, payment.Attempt);
            }
            catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Payment of job {JobId} attempt {Attempt} not settled this round ({Status}: {Detail})", payment.JobId, payment.Attempt, ex.StatusCode, ex.Status.Detail);
            }
        }
    }

    /// <summary>The node's price per core-hour for the job's cores over <paramref name="seconds"/>, in ledger units, rounded up.</summary>
    public long Price(JobRow job, double pricePerCoreHour, long seconds) =>
        (long)Math.Ceiling(Math.Max(0, pricePerCoreHour) * job.CpuMillis / 1000.0 * seconds / 3600 * options.Value.UnitsPerToken);

    sealed record OpenPayment
    {
        public Guid JobId { get; init; }
        public int Attempt { get; init; }
        public Guid TransferId { get; init; }
        public long Reserved { get; init; }
        public long ReservedSeconds { get; init; }
        public string NodeName { get; init; } = "";
        public string Status { get; init; } = "";
        public string Reason { get; init; } = "";
        public int Attempts { get; init; }
        public int CpuMillis { get; init; }
        public DateTimeOffset? StartedAt { get; init; }
        public DateTimeOffset? FinishedAt { get; init; }

        /// <summary>
        /// How long this placement ran, when its owner pays for it: it ran to an end of its own (exit, maximum runtime) or
        /// its owner cancelled it while running. Null when it never ran there, or stopped through no doing of its owner.
        /// </summary>
        public double? UsedSeconds() =>
            Attempts == Attempt && StartedAt is { } started && FinishedAt is { } finished
            && (Reason is JobReasons.Exited or JobReasons.MaxRuntime || Status == JobStates.Cancelled)
                ? Math.Max(0, (finished - started).TotalSeconds) : null;
    }
}
