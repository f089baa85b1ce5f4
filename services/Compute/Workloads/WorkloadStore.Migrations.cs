using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>
/// Migrations, under the workload's row lock like every other change: begun with room held on the target, advanced by
/// the source agent's reports, handed over (the workload moves to the target), completed by the target's report of it
/// running, or ended — failed or aborted — with the workload back on its source.
/// </summary>
public sealed partial class WorkloadStore
{
    const string MigrationColumns = """
        migration_id, workload_id, operation_id, source_node_id, target_node_id, type, compression_level, bandwidth_limit, phase,
        bytes_total, bytes_sent, bytes_saved, rounds, stopped_at, downtime_ms, error, requested_by, created_at, updated_at, finished_at
        """;

    public async Task<(WorkloadRecord Workload, OperationRecord Operation, MigrationRecord Migration)?> BeginMigrationAsync(
        Guid workloadId, Guid? targetNodeId, string type, int compressionLevel, long bandwidthLimit, string requestedBy, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = await LockAsync(connection, transaction, workloadId, cancellationToken);
        if (current is null) return null;
        if (!WorkloadTransitions.Allows(WorkloadTransitions.Migrate, current.VmState, current.TaskState))
            throw new WorkloadConflictException(current, WorkloadTransitions.Migrate.Name);
        if (targetNodeId is { } named && named == current.NodeId)
            throw new MigrationConflictException($"Workload {workloadId} already runs on node {named}; name another node as the target.");

        // The target is chosen and its room held like a new workload's placement: the node row stays locked until commit.
        var needs = new CreateWorkloadRequest
        {
            Driver = current.Driver, CpuMillis = current.CpuMillis, MemoryBytes = current.MemoryBytes, GpuCount = current.GpuCount,
            NodeSelector = { current.NodeSelector }, NodeId = targetNodeId?.ToString() ?? "",
        };
        var target = await placement.ChooseAndLockAsync(connection, transaction, needs, exclude: current.NodeId, cancellationToken);
        var operation = await InsertOperationAsync(connection, transaction, workloadId, WorkloadTransitions.Migrate.Name, requestedBy, now, cancellationToken);
        MigrationRecord migration;
        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO compute.migrations (migration_id, workload_id, operation_id, source_node_id, target_node_id, type, compression_level,
                bandwidth_limit, phase, requested_by, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $10) RETURNING {MigrationColumns}
            """, connection, transaction))
        {
            foreach (var value in new object[] { Guid.NewGuid(), workloadId, operation.OperationId, current.NodeId!, target, type, compressionLevel, bandwidthLimit, requestedBy, now })
                insert.Parameters.Add(new() { Value = value });
            migration = (await ReadMigrationsAsync(insert, cancellationToken)).Single();
        }
        await using (var update = new NpgsqlCommand(
            "UPDATE compute.workloads SET task_state = 'migrating', message = '', generation = generation + 1, updated_at = $2 WHERE workload_id = $1", connection, transaction))
        {
            update.Parameters.Add(new() { Value = workloadId });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (workload, operation, migration);
    }

    /// <summary>
    /// The source agent's report. Progress updates the record; <c>handover</c> moves the workload to the target (which
    /// then starts it from the folder it received); <c>failed</c> ends the migration with the workload on its source.
    /// A migration already ended (aborted, failed) or handed over is left as it is: the answer's phase tells the agent.
    /// Progress only moves forward: a late report (progress is sent while the next step runs) changes nothing back.
    /// </summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished, bool Changed)?> ReportMigrationAsync(
        Guid nodeId, Guid migrationId, MigrationReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockWithWorkloadAsync(connection, transaction, migrationId, cancellationToken) is not ({ } workload, { } migration)) return null;
        if (migration.SourceNodeId != nodeId)
            throw new MigrationConflictException($"Node {nodeId} is not the source of migration {migrationId}.");
        if (!migration.Active || migration.HandedOver || report.Phase == "started") return (migration, workload, null, false);

        OperationRecord? finished = null;
        if (report.Phase == "failed")
            (migration, finished) = await EndMigrationAsync(connection, transaction, migration, "failed", report.Error == "" ? "the source agent gave up" : report.Error, now, cancellationToken);
        else
        {
            var phase = report.Phase == "handover" ? "starting" : report.Phase;
            await using (var update = new NpgsqlCommand($"""
                UPDATE compute.migrations SET phase = CASE WHEN phase = 'final-copy' AND $2 = 'precopy' THEN phase ELSE $2 END,
                    bytes_total = greatest(bytes_total, $3), bytes_sent = greatest(bytes_sent, $4), bytes_saved = greatest(bytes_saved, $5),
                    rounds = greatest(rounds, $6), stopped_at = coalesce($7, stopped_at), updated_at = $8
                WHERE migration_id = $1 RETURNING {MigrationColumns}
                """, connection, transaction))
            {
                var p = update.Parameters;
                p.Add(new() { Value = migrationId });
                p.Add(new() { Value = phase });
                p.Add(new() { Value = report.BytesTotal });
                p.Add(new() { Value = report.BytesSent });
                p.Add(new() { Value = report.BytesSaved });
                p.Add(new() { Value = report.Rounds });
                p.Add(new() { Value = report.StoppedAtMs == 0 ? DBNull.Value : DateTimeOffset.FromUnixTimeMilliseconds(report.StoppedAtMs), NpgsqlDbType = NpgsqlDbType.TimestampTz });
                p.Add(new() { Value = now });
                migration = (await ReadMigrationsAsync(update, cancellationToken)).Single();
            }
            if (migration.HandedOver)
                await Execute(connection, transaction, $"""
                    UPDATE compute.workloads SET node_id = '{migration.TargetNodeId}', generation = generation + 1, power_state = 'nostate', pid = NULL,
                        exit_code = NULL, message = 'starting on the migration target', updated_at = now()
                    WHERE workload_id = '{migration.WorkloadId}'
                    """, cancellationToken);
        }
        workload = (await LockAsync(connection, transaction, migration.WorkloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (migration, workload, finished, true);
    }

    /// <summary>Aborts a migration that has not handed over: the workload stays on (or starts again on) its source.</summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> AbortMigrationAsync(
        Guid migrationId, string requestedBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockWithWorkloadAsync(connection, transaction, migrationId, cancellationToken) is not (_, { } migration)) return null;
        if (!migration.Active)
            throw new MigrationConflictException($"Migration {migrationId} has already ended: it {(migration.Phase == "completed" ? "completed" : $"was {migration.Phase}")}.");
        if (migration.HandedOver)
            throw new MigrationConflictException($"Migration {migrationId} has handed the workload over to its target, which is starting it; it can no longer be aborted.");
        var (ended, finished) = await EndMigrationAsync(connection, transaction, migration, "aborted", $"aborted by {requestedBy}", now, cancellationToken);
        var workload = (await LockAsync(connection, transaction, migration.WorkloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (ended, workload, finished);
    }

    /// <summary>
    /// The target went Down after the handover, before it reported the workload running: the workload goes back to its
    /// source, which still has its copy. Null when the workload has no such migration.
    /// </summary>
    public async Task<(MigrationRecord Migration, WorkloadRecord Workload, OperationRecord? Finished)?> ReturnFromDownTargetAsync(
        Guid workloadId, Guid downNodeId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (await LockAsync(connection, transaction, workloadId, cancellationToken) is null
            || await ActiveMigrationAsync(connection, transaction, workloadId, cancellationToken) is not { HandedOver: true } migration
            || migration.TargetNodeId != downNodeId)
            return null;
        var (ended, finished) = await EndMigrationAsync(connection, transaction, migration, "failed", "its target node went down before it ran the workload", now, cancellationToken);
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        await transaction.CommitAsync(cancellationToken);
        return (ended, workload, finished);
    }

    /// <summary>
    /// A report from the target after the handover settles the migration: running completes it (the downtime runs from
    /// the stop on the source to the start here); an exit rolls it back to the source, which still has its copy.
    /// Null when the report settles nothing (a report from the source, or of the target still starting).
    /// </summary>
    async Task<(OperationRecord? Finished, bool RolledBack)?> SettleMigrationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        WorkloadRecord workload, Guid nodeId, WorkloadReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await ActiveMigrationAsync(connection, transaction, workload.WorkloadId, cancellationToken) is not { HandedOver: true } migration
            || nodeId != migration.TargetNodeId || report.Absent)
            return null;
        if (report.PowerState == "running")
        {
            var downtime = migration.StoppedAt is { } stopped && report.StartedAtMs > 0
                ? Math.Max(0, report.StartedAtMs - stopped.ToUnixTimeMilliseconds()) : (long?)null;
            await using var update = new NpgsqlCommand(
                "UPDATE compute.migrations SET phase = 'completed', downtime_ms = $2, finished_at = $3, updated_at = $3 WHERE migration_id = $1", connection, transaction);
            update.Parameters.Add(new() { Value = migration.MigrationId });
            update.Parameters.Add(new() { Value = (object?)downtime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
            update.Parameters.Add(new() { Value = now });
            await update.ExecuteNonQueryAsync(cancellationToken);
            return (await FinishOperationAsync(connection, transaction, workload.WorkloadId, "succeeded", "", now, cancellationToken), false);
        }
        if (report.PowerState is not ("crashed" or "shutdown")) return null;
        var why = $"it did not start on the target: {(report.Message == "" ? $"exit code {report.ExitCode}" : report.Message)}";
        return ((await EndMigrationAsync(connection, transaction, migration, "failed", why, now, cancellationToken)).Finished, true);
    }

    /// <summary>
    /// Ends a migration short of completion: the record says how, the workload goes back to its source with its task
    /// cleared and a new generation (the source starts it again if it had stopped it), and the operation fails.
    /// </summary>
    static async Task<(MigrationRecord Migration, OperationRecord? Finished)> EndMigrationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        MigrationRecord migration, string phase, string error, DateTimeOffset now, CancellationToken cancellationToken)
    {
        MigrationRecord ended;
        await using (var update = new NpgsqlCommand($"""
            UPDATE compute.migrations SET phase = $2, error = $3, finished_at = $4, updated_at = $4 WHERE migration_id = $1 RETURNING {MigrationColumns}
            """, connection, transaction))
        {
            update.Parameters.Add(new() { Value = migration.MigrationId });
            update.Parameters.Add(new() { Value = phase });
            update.Parameters.Add(new() { Value = error });
            update.Parameters.Add(new() { Value = now });
            ended = (await ReadMigrationsAsync(update, cancellationToken)).Single();
        }
        await using (var back = new NpgsqlCommand("""
            UPDATE compute.workloads SET task_state = '', generation = generation + 1, message = $3, updated_at = $4,
                power_state = CASE WHEN node_id = $2 THEN power_state ELSE 'nostate' END,
                pid = CASE WHEN node_id = $2 THEN pid END, node_id = $2
            WHERE workload_id = $1
            """, connection, transaction))
        {
            back.Parameters.Add(new() { Value = migration.WorkloadId });
            back.Parameters.Add(new() { Value = migration.SourceNodeId });
            back.Parameters.Add(new() { Value = $"migration {phase}: {error}" });
            back.Parameters.Add(new() { Value = now });
            await back.ExecuteNonQueryAsync(cancellationToken);
        }
        return (ended, await FinishOperationAsync(connection, transaction, migration.WorkloadId, "failed", $"migration {phase}: {error}", now, cancellationToken));
    }

    /// <summary>The workload's node went down: its migration, if any, fails; the caller decides where the workload goes.</summary>
    static async Task FailActiveMigrationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workloadId, string reason, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand(
            "UPDATE compute.migrations SET phase = 'failed', error = $2, finished_at = $3, updated_at = $3 WHERE workload_id = $1 AND finished_at IS NULL", connection, transaction);
        update.Parameters.Add(new() { Value = workloadId });
        update.Parameters.Add(new() { Value = reason });
        update.Parameters.Add(new() { Value = now });
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// What a node's agent must make true: its workloads that are not deleted, with the migration orders of those
    /// migrating from or to it; a workload handed over to its target stays listed on its source as <c>migrated</c>
    /// (kept, stopped) until the target reports it running.
    /// </summary>
    public async Task<IReadOnlyList<Assignment>> AssignmentsAsync(Guid nodeId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT w.*, m.migration_id, m.source_node_id, m.target_node_id, m.type, m.compression_level, m.bandwidth_limit, m.phase, t.agent_url, t.name
            FROM (SELECT {Columns} FROM compute.workloads WHERE vm_state <> 'deleted') w
            LEFT JOIN compute.migrations m ON m.workload_id = w.workload_id AND m.finished_at IS NULL
            LEFT JOIN compute.nodes t ON t.node_id = m.target_node_id
            WHERE w.node_id = $1 OR m.source_node_id = $1
            ORDER BY w.created_at
            """);
        command.Parameters.Add(new() { Value = nodeId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var assignments = new List<Assignment>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var assignment = Read(reader).ToAssignment();
            assignments.Add(assignment);
            if (reader.IsDBNull(32)) continue;
            var (source, handedOver) = (reader.GetGuid(33), reader.GetString(38) == "starting");
            if (source == nodeId)
            {
                assignment.Migration = new MigrationOrder
                {
                    MigrationId = reader.GetGuid(32).ToString(), Role = "source", Type = reader.GetString(35), TargetNodeId = reader.GetGuid(34).ToString(),
                    TargetAgentUrl = reader.IsDBNull(39) ? "" : reader.GetString(39), CompressionLevel = reader.GetInt32(36), BandwidthLimitBytesPerSecond = reader.GetInt64(37),
                    TargetNodeName = reader.IsDBNull(40) ? "" : reader.GetString(40),
                };
                if (handedOver) assignment.DesiredState = "migrated";
            }
            else if (handedOver) assignment.Migration = new MigrationOrder { MigrationId = reader.GetGuid(32).ToString(), Role = "target", Type = reader.GetString(35) };
        }
        return assignments;
    }

    public async Task<MigrationRecord?> GetMigrationAsync(Guid migrationId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {MigrationColumns} FROM compute.migrations WHERE migration_id = $1");
        command.Parameters.Add(new() { Value = migrationId });
        return (await ReadMigrationsAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<MigrationRecord>> ListMigrationsAsync(Guid? workloadId, bool activeOnly, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            SELECT {MigrationColumns} FROM compute.migrations
            WHERE ($1::uuid IS NULL OR workload_id = $1) AND (NOT $2 OR finished_at IS NULL) ORDER BY created_at DESC LIMIT 500
            """);
        command.Parameters.Add(new() { Value = (object?)workloadId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
        command.Parameters.Add(new() { Value = activeOnly });
        return await ReadMigrationsAsync(command, cancellationToken);
    }

    /// <summary>
    /// A migration and its workload, both locked — the workload first, as every other change locks it, so a report
    /// or an abort never interleaves with the workload's actions and agent reports.
    /// </summary>
    static async Task<(WorkloadRecord Workload, MigrationRecord Migration)?> LockWithWorkloadAsync(NpgsqlConnection connection, NpgsqlTransaction transaction,
        Guid migrationId, CancellationToken cancellationToken)
    {
        await using var find = new NpgsqlCommand("SELECT workload_id FROM compute.migrations WHERE migration_id = $1", connection, transaction);
        find.Parameters.Add(new() { Value = migrationId });
        if (await find.ExecuteScalarAsync(cancellationToken) is not Guid workloadId) return null;
        var workload = (await LockAsync(connection, transaction, workloadId, cancellationToken))!;
        return (workload, (await LockMigrationAsync(connection, transaction, migrationId, cancellationToken))!);
    }

    static async Task<MigrationRecord?> LockMigrationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid migrationId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {MigrationColumns} FROM compute.migrations WHERE migration_id = $1 FOR UPDATE", connection, transaction);
        command.Parameters.Add(new() { Value = migrationId });
        return (await ReadMigrationsAsync(command, cancellationToken)).SingleOrDefault();
    }

    static async Task<MigrationRecord?> ActiveMigrationAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid workloadId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {MigrationColumns} FROM compute.migrations WHERE workload_id = $1 AND finished_at IS NULL FOR UPDATE", connection, transaction);
        command.Parameters.Add(new() { Value = workloadId });
        return (await ReadMigrationsAsync(command, cancellationToken)).SingleOrDefault();
    }

    static async Task<IReadOnlyList<MigrationRecord>> ReadMigrationsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var migrations = new List<MigrationRecord>();
        while (await reader.ReadAsync(cancellationToken))
            migrations.Add(new(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetGuid(4), reader.GetString(5),
                reader.GetInt32(6), reader.GetInt64(7), reader.GetString(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11),
                reader.GetInt32(12), Time(reader, 13), reader.IsDBNull(14) ? null : reader.GetInt64(14), reader.GetString(15), reader.GetString(16),
                reader.GetFieldValue<DateTimeOffset>(17), reader.GetFieldValue<DateTimeOffset>(18), Time(reader, 19)));
        return migrations;
    }
}
