using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Jobs;

/// <summary>
/// <c>scheduler.jobs</c> and each job's transitions. Every state change takes the job's row lock, checks the state it
/// expects, and writes the new state and its transition in one transaction: two replicas, or the loop and a cancel,
/// never both move the same job.
/// </summary>
public sealed class JobStore(NpgsqlDataSource db)
{
    const string Columns = """
        job_id, name, owner, sla_tier, status, reason, cpu_millis, memory_mib, gpu_count, estimated_runtime_s, max_runtime_s, deadline,
        driver, command, args, image, node_selector, labels, affinity, anti_affinity, depends_on, preemptible, attempts, node_id,
        workload_id, exit_code, submitted_at, started_at, finished_at, updated_at
        """;

    /// <summary>Stores a new job and its first transition; every dependency must exist.</summary>
    public async Task InsertAsync(JobRow job, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (job.DependsOn.Length > 0)
        {
            var found = (await connection.QueryAsync<Guid>(transaction.In(
                "SELECT job_id FROM scheduler.jobs WHERE job_id = ANY(@ids)", new { ids = job.DependsOn }, cancellationToken))).ToHashSet();
            if (job.DependsOn.FirstOrDefault(d => !found.Contains(d)) is var missing && missing != Guid.Empty)
                throw new InvalidFieldException("depends_on", $"job {missing} does not exist");
        }
        await connection.ExecuteAsync(transaction.In($"""
            INSERT INTO scheduler.jobs ({Columns})
            VALUES (@JobId, @Name, @Owner, @SlaTier, @Status, @Reason, @CpuMillis, @MemoryMib, @GpuCount, @EstimatedRuntimeS, @MaxRuntimeS, @Deadline,
                @Driver, @Command, @Args, @Image, @NodeSelector, @Labels, @Affinity, @AntiAffinity, @DependsOn, @Preemptible, @Attempts, @NodeId,
                @WorkloadId, @ExitCode, @SubmittedAt, @StartedAt, @FinishedAt, @UpdatedAt)
            """, job, cancellationToken));
        await RecordAsync(connection, transaction, job, "", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public Task<JobRow?> GetAsync(Guid jobId, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<JobRow>($"SELECT {Columns} FROM scheduler.jobs WHERE job_id = @jobId", new { jobId }, cancellationToken);

    public Task<IReadOnlyList<JobRow>> ManyAsync(IEnumerable<Guid> jobIds, CancellationToken cancellationToken) =>
        db.QueryAsync<JobRow>($"SELECT {Columns} FROM scheduler.jobs WHERE job_id = ANY(@ids)", new { ids = jobIds.ToArray() }, cancellationToken);

    /// <summary>Jobs in any of <paramref name="statuses"/>, oldest first.</summary>
    public Task<IReadOnlyList<JobRow>> InStatesAsync(string[] statuses, CancellationToken cancellationToken) =>
        db.QueryAsync<JobRow>($"SELECT {Columns} FROM scheduler.jobs WHERE status = ANY(@statuses) ORDER BY submitted_at, job_id", new { statuses }, cancellationToken);

    /// <summary>A page of jobs, newest first, after the (submitted_at, job_id) of the previous page's last job.</summary>
    public Task<IReadOnlyList<JobRow>> ListAsync(JobFilter filter, CancellationToken cancellationToken) =>
        db.QueryAsync<JobRow>($"""
            SELECT {Columns} FROM scheduler.jobs
            WHERE (@status = '' OR status = @status) AND (@tier = '' OR sla_tier = @tier) AND (@owner = '' OR owner = @owner)
              AND (@afterAt IS NULL OR (submitted_at, job_id) < (@afterAt, @afterId))
            ORDER BY submitted_at DESC, job_id DESC LIMIT @limit
            """, new { status = filter.Status, tier = filter.Tier, owner = filter.Owner, afterAt = filter.After?.SubmittedAt, afterId = filter.After?.JobId ?? Guid.Empty, limit = filter.Limit },
            cancellationToken);

    public Task<IReadOnlyList<TransitionRow>> HistoryAsync(Guid jobId, CancellationToken cancellationToken) =>
        db.QueryAsync<TransitionRow>(
            "SELECT status, reason, message, node_id, attempt, at FROM scheduler.job_transitions WHERE job_id = @jobId ORDER BY transition_id", new { jobId }, cancellationToken);

    /// <summary>
    /// Moves a job on under its row lock: when its status is one of <paramref name="expected"/>, writes
    /// <paramref name="change"/>'s row and records the transition (when the status changes, or always with
    /// <paramref name="record"/>), after <paramref name="passedThrough"/> when given; when its status is not expected
    /// or <paramref name="when"/> does not hold for it, leaves it and returns null with the job as it is.
    /// </summary>
    public async Task<(JobRow? Changed, JobRow? Current)> TransitionAsync(
        Guid jobId, string[] expected, Func<JobRow, JobRow> change, string message, CancellationToken cancellationToken, bool record = false,
        string? passedThrough = null, Func<JobRow, bool>? when = null)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await connection.QuerySingleOrDefaultAsync<JobRow>(transaction.In(
            $"SELECT {Columns} FROM scheduler.jobs WHERE job_id = @jobId FOR UPDATE", new { jobId }, cancellationToken));
        if (current is null || !expected.Contains(current.Status) || when?.Invoke(current) == false) return (null, current);
        var changed = change(current);
        await connection.ExecuteAsync(transaction.In("""
            UPDATE scheduler.jobs SET name = @Name, sla_tier = @SlaTier, status = @Status, reason = @Reason, cpu_millis = @CpuMillis,
                memory_mib = @MemoryMib, gpu_count = @GpuCount, estimated_runtime_s = @EstimatedRuntimeS, max_runtime_s = @MaxRuntimeS,
                deadline = @Deadline, node_selector = @NodeSelector, preemptible = @Preemptible, attempts = @Attempts, node_id = @NodeId,
                workload_id = @WorkloadId, exit_code = @ExitCode, started_at = @StartedAt, finished_at = @FinishedAt, updated_at = @UpdatedAt
            WHERE job_id = @JobId
            """, changed, cancellationToken));
        // A state the job passes through without staying (preempted, on its way back to pending) is in its history too.
        if (passedThrough is not null)
            await RecordAsync(connection, transaction, current with { Status = passedThrough, Reason = passedThrough, UpdatedAt = changed.UpdatedAt }, message, cancellationToken);
        if (record || changed.Status != current.Status) await RecordAsync(connection, transaction, changed, message, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (changed, changed);
    }

    static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, JobRow job, string message, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(transaction.In("""
            INSERT INTO scheduler.job_transitions (job_id, status, reason, message, node_id, attempt, at)
            VALUES (@JobId, @Status, @Reason, @message, @NodeId, @Attempts, @UpdatedAt)
            """, new { job.JobId, job.Status, job.Reason, message = message.Length > 2000 ? message[..2000] : message, job.NodeId, job.Attempts, job.UpdatedAt },
            cancellationToken));
}

/// <summary>Which jobs a list shows: by status, tier and owner, the page after <see cref="After"/>.</summary>
public sealed record JobFilter(string Status, string Tier, string Owner, JobRow? After, int Limit);

public sealed record TransitionRow
{
    public string Status { get; init; } = "";
    public string Reason { get; init; } = "";
    public string Message { get; init; } = "";
    public Guid? NodeId { get; init; }
    public int Attempt { get; init; }
    public DateTimeOffset At { get; init; }
}
