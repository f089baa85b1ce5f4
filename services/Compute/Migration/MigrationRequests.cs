using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Migration;

/// <summary>A migration request with its defaults filled in.</summary>
public sealed record MigrationPlan(Guid WorkloadId, Guid? TargetNodeId, string Type, int CompressionLevel, long BandwidthLimit);

/// <summary>The rules a migration request must meet: InvalidArgument naming every bad field, before anything is written.</summary>
public static class MigrationRequests
{
    public const long MinimumBandwidth = 64 * 1024;

    /// <summary>The order: cold unless asked otherwise, zstd level 3, unlimited bandwidth, the best-fitting node unless one is named.</summary>
    public static MigrationPlan Normalize(MigrateWorkloadRequest request)
    {
        var workloadId = RequestValidation.RequireGuid(request.WorkloadId, "workload_id");
        var type = request.Type == "" ? "cold" : request.Type;
        var level = request.CompressionLevel == 0 ? 3 : request.CompressionLevel;
        new RequestValidation()
            .Require(request.TargetNodeId == "" || Guid.TryParse(request.TargetNodeId, out _), "target_node_id", "must be a UUID (or empty for the best-fitting node)")
            .Require(MigrationRecord.Types.Contains(type), "type", "must be cold, warm or live")
            .Require(level is >= 1 and <= 19, "compression_level", "must be a zstd level between 1 and 19")
            .Require(request.BandwidthLimitBytesPerSecond == 0 || request.BandwidthLimitBytesPerSecond >= MinimumBandwidth,
                "bandwidth_limit_bytes_per_second", $"must be 0 (unlimited) or at least {MinimumBandwidth}")
            .ThrowIfInvalid();
        return new(workloadId, request.TargetNodeId == "" ? null : Guid.Parse(request.TargetNodeId), type, level, request.BandwidthLimitBytesPerSecond);
    }

    /// <summary>What an agent may report about a migration.</summary>
    public static Guid Validate(MigrationReport report)
    {
        var migrationId = RequestValidation.RequireGuid(report.MigrationId, "migration_id");
        new RequestValidation()
            .Require(MigrationReportPhases.All.Contains(report.Phase), "phase", "must be started, precopy, final-copy, handover or failed")
            .Require(report.BytesTotal >= 0 && report.BytesSent >= 0 && report.Rounds >= 0, "bytes_total", "counters cannot be negative")
            .ThrowIfInvalid();
        return migrationId;
    }
}
