using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Migration;

/// <summary>A migration's phase as stored and served.</summary>
public static class MigrationPhases
{
    public const string Pending = "pending";
    public const string Precopy = "precopy";
    public const string FinalCopy = "final-copy";
    /// <summary>Handed over: the target is starting the workload from what it received.</summary>
    public const string Starting = "starting";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Aborted = "aborted";
}

/// <summary>What the source agent reports; <see cref="Handover"/> is stored as <see cref="MigrationPhases.Starting"/>.</summary>
public static class MigrationReportPhases
{
    public const string Started = "started";
    public const string Precopy = MigrationPhases.Precopy;
    public const string FinalCopy = MigrationPhases.FinalCopy;
    public const string Handover = "handover";
    public const string Failed = MigrationPhases.Failed;

    public static readonly string[] All = [Started, Precopy, FinalCopy, Handover, Failed];

    /// <summary>The phase a report moves the migration to.</summary>
    public static string Stored(string reported) => reported == Handover ? MigrationPhases.Starting : reported;
}

/// <summary>A migration as stored in <c>compute.migrations</c>, mapped by column name.</summary>
public sealed record MigrationRecord
{
    public static readonly string[] Types = ["cold", "warm", "live"];

    public Guid MigrationId { get; init; }
    public Guid WorkloadId { get; init; }
    public Guid OperationId { get; init; }
    public Guid SourceNodeId { get; init; }
    public Guid TargetNodeId { get; init; }
    public string Type { get; init; } = "";
    public int CompressionLevel { get; init; }
    public long BandwidthLimit { get; init; }
    public string Phase { get; init; } = "";
    public long BytesTotal { get; init; }
    public long BytesSent { get; init; }
    public long BytesSaved { get; init; }
    public int Rounds { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }
    public long? DowntimeMs { get; init; }
    public string Error { get; init; } = "";
    public string RequestedBy { get; init; } = "";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    public bool Active => FinishedAt is null;

    /// <summary>Before the handover an abort can still put the workload back on its source.</summary>
    public bool HandedOver => Phase == MigrationPhases.Starting;

    public V1.Migration ToMessage() => new()
    {
        MigrationId = MigrationId.ToString(), WorkloadId = WorkloadId.ToString(), SourceNodeId = SourceNodeId.ToString(),
        TargetNodeId = TargetNodeId.ToString(), Type = Type, CompressionLevel = CompressionLevel, BandwidthLimitBytesPerSecond = BandwidthLimit,
        Phase = Phase, BytesTotal = BytesTotal, BytesSent = BytesSent, BytesSaved = BytesSaved, Rounds = Rounds, DowntimeMs = DowntimeMs ?? 0,
        Error = Error, RequestedBy = RequestedBy, OperationId = OperationId.ToString(), CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
        UpdatedAtMs = UpdatedAt.ToUnixTimeMilliseconds(), FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
    };
}

/// <summary>The migration cannot be begun, aborted or reported on in its phase: 409.</summary>
public sealed class MigrationConflictException(string message) : ConflictException("MIGRATION_CONFLICT", message);
