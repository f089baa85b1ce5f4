using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Migration;

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
