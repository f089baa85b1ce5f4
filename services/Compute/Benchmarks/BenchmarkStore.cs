using Dapper;
using Npgsql;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Benchmarks;

/// <summary>A benchmark task as stored: its place in the run, what it runs where, and how far it got.</summary>
public sealed record BenchmarkTaskRow
{
    public Guid RunId { get; init; }
    public int Position { get; init; }
    public Guid NodeId { get; init; }
    public string Kind { get; init; } = "";
    public Guid? PeerNodeId { get; init; }
    public Guid? ServerWorkloadId { get; init; }
    public string? Secret { get; init; }
    public Guid? WorkloadId { get; init; }
    public string State { get; init; } = "";
    public string Error { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
}

/// <summary><c>compute.benchmark_runs</c>, <c>benchmark_tasks</c> and <c>benchmark_results</c>.</summary>
public sealed class BenchmarkStore(NpgsqlDataSource db)
{
    sealed record RunRow
    {
        public Guid RunId { get; init; }
        public string State { get; init; } = "";
        public string[] Kinds { get; init; } = [];
        public string StartedBy { get; init; } = "";
        public DateTimeOffset StartedAt { get; init; }
        public DateTimeOffset? FinishedAt { get; init; }
    }

    sealed record ResultRow
    {
        public Guid RunId { get; init; }
        public Guid NodeId { get; init; }
        public string NodeName { get; init; } = "";
        public string Benchmark { get; init; } = "";
        public double Value { get; init; }
        public string Unit { get; init; } = "";
        public string Method { get; init; } = "";
        public Guid? PeerNodeId { get; init; }
        public DateTimeOffset MeasuredAt { get; init; }

        public BenchmarkResult ToMessage() => new()
        {
            RunId = RunId.ToString(), NodeId = NodeId.ToString(), NodeName = NodeName, Benchmark = Benchmark, Value = Value, Unit = Unit, Method = Method,
            PeerNodeId = PeerNodeId?.ToString() ?? "", MeasuredAtMs = MeasuredAt.ToUnixTimeMilliseconds(),
        };
    }

    const string ResultColumns = "run_id, node_id, node_name, benchmark, value, unit, method, peer_node_id, measured_at";

    /// <summary>Records a run and its tasks; false when another run is active (one at a time: runs would disturb each other's figures).</summary>
    public async Task<bool> CreateAsync(Guid runId, IReadOnlyCollection<string> kinds, string startedBy, IReadOnlyList<PlannedTask> tasks, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO compute.benchmark_runs (run_id, state, kinds, started_by, started_at) VALUES (@runId, 'running', @kinds, @startedBy, @now)
                """, new { runId, kinds = kinds.ToArray(), startedBy, now }, cancellationToken));
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return false;
        }
        foreach (var task in tasks)
            await connection.ExecuteAsync(transaction.In("""
                INSERT INTO compute.benchmark_tasks (run_id, position, node_id, kind, peer_node_id, secret, state)
                VALUES (@runId, @Position, @NodeId, @Kind, @PeerNodeId, @secret, 'pending')
                """, new { runId, task.Position, task.NodeId, task.Kind, task.PeerNodeId, secret = task.Kind == "network" ? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)) : null }, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<Guid?> ActiveRunAsync(CancellationToken cancellationToken) =>
        await db.QuerySingleOrDefaultAsync<Guid?>("SELECT run_id FROM compute.benchmark_runs WHERE state = 'running'", null, cancellationToken);

    public Task<IReadOnlyList<BenchmarkTaskRow>> TasksAsync(Guid runId, CancellationToken cancellationToken) =>
        db.QueryAsync<BenchmarkTaskRow>("SELECT * FROM compute.benchmark_tasks WHERE run_id = @runId ORDER BY position", new { runId }, cancellationToken);

    /// <summary>Moves a task on; only while its run is still running (a stop wins over a runner that was mid-step).</summary>
    public async Task<bool> UpdateTaskAsync(BenchmarkTaskRow task, CancellationToken cancellationToken) =>
        await db.ExecuteAsync("""
            UPDATE compute.benchmark_tasks t SET state = @State, error = @Error, workload_id = @WorkloadId, server_workload_id = @ServerWorkloadId, started_at = @StartedAt
            FROM compute.benchmark_runs r
            WHERE t.run_id = @RunId AND t.position = @Position AND r.run_id = t.run_id AND r.state = 'running'
            """, task, cancellationToken) == 1;

    /// <summary>The task's results and its completion, together.</summary>
    public async Task CompleteTaskAsync(BenchmarkTaskRow task, IEnumerable<BenchmarkResult> results, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var result in results)
            await connection.ExecuteAsync(transaction.In($"""
                INSERT INTO compute.benchmark_results ({ResultColumns})
                VALUES (@runId, @nodeId, @NodeName, @Benchmark, @Value, @Unit, @Method, @peer, @measuredAt)
                """, new
            {
                runId = task.RunId, nodeId = task.NodeId, result.NodeName, result.Benchmark, result.Value, result.Unit, result.Method,
                peer = task.PeerNodeId, measuredAt = DateTimeOffset.FromUnixTimeMilliseconds(result.MeasuredAtMs),
            }, cancellationToken));
        var completed = await connection.ExecuteAsync(transaction.In("""
            UPDATE compute.benchmark_tasks t SET state = 'completed', error = ''
            FROM compute.benchmark_runs r WHERE t.run_id = @RunId AND t.position = @Position AND r.run_id = t.run_id AND r.state = 'running'
            """, task, cancellationToken));
        if (completed == 1) await transaction.CommitAsync(cancellationToken); // a stopped run keeps no late results
    }

    /// <summary>Ends a run that is still running; false when it already ended.</summary>
    public async Task<bool> FinishAsync(Guid runId, string state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ended = await connection.ExecuteAsync(transaction.In(
            "UPDATE compute.benchmark_runs SET state = @state, finished_at = @now WHERE run_id = @runId AND state = 'running'", new { runId, state, now }, cancellationToken));
        if (ended == 1 && state == "stopped")
            await connection.ExecuteAsync(transaction.In("UPDATE compute.benchmark_tasks SET state = 'stopped' WHERE run_id = @runId AND state IN ('pending', 'running')",
                new { runId }, cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return ended == 1;
    }

    public async Task<BenchmarkRun?> RunAsync(Guid runId, bool withResults, CancellationToken cancellationToken)
    {
        var run = await db.QuerySingleOrDefaultAsync<RunRow>("SELECT run_id, state, kinds, started_by, started_at, finished_at FROM compute.benchmark_runs WHERE run_id = @runId",
            new { runId }, cancellationToken);
        if (run is null) return null;
        var results = withResults
            ? await db.QueryAsync<ResultRow>($"SELECT {ResultColumns} FROM compute.benchmark_results WHERE run_id = @runId ORDER BY result_id", new { runId }, cancellationToken)
            : [];
        return ToMessage(run, await TasksAsync(runId, cancellationToken), results);
    }

    /// <summary>The newest runs with their tasks (two queries, whatever the count), without results.</summary>
    public async Task<IReadOnlyList<BenchmarkRun>> RecentRunsAsync(int limit, CancellationToken cancellationToken)
    {
        var runs = await db.QueryAsync<RunRow>("SELECT run_id, state, kinds, started_by, started_at, finished_at FROM compute.benchmark_runs ORDER BY started_at DESC LIMIT @limit",
            new { limit }, cancellationToken);
        var tasks = (await db.QueryAsync<BenchmarkTaskRow>("SELECT * FROM compute.benchmark_tasks WHERE run_id = ANY(@ids) ORDER BY run_id, position",
            new { ids = runs.Select(r => r.RunId).ToArray() }, cancellationToken)).ToLookup(t => t.RunId);
        return [.. runs.Select(run => ToMessage(run, [.. tasks[run.RunId]], []))];
    }

    static BenchmarkRun ToMessage(RunRow run, IReadOnlyList<BenchmarkTaskRow> tasks, IReadOnlyList<ResultRow> results)
    {
        var message = new BenchmarkRun
        {
            RunId = run.RunId.ToString(), State = run.State, Kinds = { run.Kinds }, StartedBy = run.StartedBy,
            StartedAtMs = run.StartedAt.ToUnixTimeMilliseconds(), FinishedAtMs = run.FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
        };
        foreach (var task in tasks)
        {
            var entry = new BenchmarkTask
            {
                NodeId = task.NodeId.ToString(), Kind = task.Kind, PeerNodeId = task.PeerNodeId?.ToString() ?? "", WorkloadId = task.WorkloadId?.ToString() ?? "",
                State = task.State, Error = task.Error,
            };
            entry.Results.AddRange(results.Where(r => r.NodeId == task.NodeId && r.PeerNodeId == task.PeerNodeId && Kind(r.Benchmark) == task.Kind).Select(r => r.ToMessage()));
            message.Tasks.Add(entry);
        }
        return message;
    }

    /// <summary>The kind a benchmark's name belongs to: <c>disk_seq_read</c> → disk.</summary>
    static string Kind(string benchmark) => benchmark.Split('_')[0];

    public async Task<IReadOnlyList<BenchmarkResult>> LatestAsync(Guid? nodeId, string benchmark, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<ResultRow>($"""
            SELECT DISTINCT ON (node_id, benchmark, peer_node_id) {ResultColumns} FROM compute.benchmark_results
            WHERE (@nodeId::uuid IS NULL OR node_id = @nodeId) AND (@benchmark = '' OR benchmark = @benchmark)
            ORDER BY node_id, benchmark, peer_node_id, measured_at DESC
            """, new { nodeId, benchmark }, cancellationToken)).Select(r => r.ToMessage())];

    public async Task<IReadOnlyList<BenchmarkResult>> HistoryAsync(Guid? nodeId, string benchmark, int limit, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<ResultRow>($"""
            SELECT {ResultColumns} FROM compute.benchmark_results
            WHERE (@nodeId::uuid IS NULL OR node_id = @nodeId) AND (@benchmark = '' OR benchmark = @benchmark)
            ORDER BY measured_at DESC, result_id DESC LIMIT @limit
            """, new { nodeId, benchmark, limit }, cancellationToken)).Select(r => r.ToMessage())];
}
