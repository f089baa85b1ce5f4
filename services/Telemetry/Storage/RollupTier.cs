namespace Platform.Telemetry.Storage;

/// <summary>A rollup tier: its name in the API and in <c>telemetry.rollup_progress</c>, its bucket width and table.</summary>
public sealed record RollupTier(string Name, TimeSpan Resolution, PartitionedTable Table)
{
    public static readonly RollupTier Minute = new("1m", TimeSpan.FromMinutes(1), PartitionedTable.Minutes);
    public static readonly RollupTier Hour = new("1h", TimeSpan.FromHours(1), PartitionedTable.Hours);

    /// <summary>
    /// A sample older than this when it is written may land in a bucket the rollup job has already rolled up, so the
    /// writer records it for re-rolling. The job leaves buckets alone until <see cref="Settle"/> after their end, which
    /// is longer, so a sample that is not recorded is always seen by the first roll-up of its bucket.
    /// </summary>
    public static readonly TimeSpan LateAfter = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Settle = TimeSpan.FromMinutes(2);

    /// <summary>The origin of every tier's buckets in SQL (<c>date_bin(width, time, origin)</c>); any UTC midnight works.</summary>
    public const string SqlOrigin = "TIMESTAMPTZ '2000-01-01 00:00+00'";

    public DateTimeOffset Floor(DateTimeOffset time) => new(time.UtcTicks - time.UtcTicks % Resolution.Ticks, TimeSpan.Zero);

    /// <summary>The start of the bucket after the one holding <paramref name="time"/>.</summary>
    public DateTimeOffset After(DateTimeOffset time) => Floor(time) + Resolution;
}
