namespace Platform.Telemetry.Storage;

/// <summary>
/// How far from now a sample's timestamp may lie to be accepted, and so how far back storage must keep partitions
/// and rollups open for late samples.
/// </summary>
public static class SampleWindow
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxFuture = TimeSpan.FromMinutes(10);
}
