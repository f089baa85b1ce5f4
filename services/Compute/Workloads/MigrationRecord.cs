using Platform.Compute.V1;

namespace Platform.Compute.Workloads;

/// <summary>A migration as stored in <c>compute.migrations</c>.</summary>
public sealed record MigrationRecord(
    Guid MigrationId, Guid WorkloadId, Guid OperationId, Guid SourceNodeId, Guid TargetNodeId, string Type, int CompressionLevel,
    long BandwidthLimit, string Phase, long BytesTotal, long BytesSent, long BytesSaved, int Rounds, DateTimeOffset? StoppedAt,
    long? DowntimeMs, string Error, string RequestedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? FinishedAt)
{
    public static readonly string[] Types = ["cold", "warm", "live"];

    public bool Active => FinishedAt is null;

    /// <summary>Before the handover an abort can still put the workload back on its source.</summary>
    public bool HandedOver => Phase == "starting";

    public Migration ToMessage() => new()
    {
        MigrationId = MigrationId.ToString(), WorkloadId = WorkloadId.ToString(), SourceNodeId = SourceNodeId.ToString(),
        TargetNodeId = TargetNodeId.ToString(), Type = Type, CompressionLevel = CompressionLevel, BandwidthLimitBytesPerSecond = BandwidthLimit,
        Phase = Phase, BytesTotal = BytesTotal, BytesSent = BytesSent, BytesSaved = BytesSaved, Rounds = Rounds, DowntimeMs = DowntimeMs ?? 0,
        Error = Error, RequestedBy = RequestedBy, OperationId = OperationId.ToString(), CreatedAtMs = CreatedAt.ToUnixTimeMilliseconds(),
        UpdatedAtMs = UpdatedAt.ToUnixTimeMilliseconds(), FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
    };
}

/// <summary>The migration cannot be aborted (or reported on) in its phase.</summary>
public sealed class MigrationConflictException(string message) : Exception(message);
