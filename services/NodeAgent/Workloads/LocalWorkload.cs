using System.Text.Json;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// One workload on this node as the agent knows it, kept in <c>workload.json</c> in the workload's folder (written
/// whole, then renamed), so an agent that restarts finds its workloads and their processes again.
/// </summary>
public sealed class LocalWorkload
{
    public required string WorkloadId { get; init; }
    public required string Name { get; set; }
    public required string Driver { get; init; }
    public required string Folder { get; init; }
    public WorkloadHandle? Handle { get; set; }
    public long Generation { get; set; }
    public long RestartGeneration { get; set; }
    public int Restarts { get; set; }
    public string Power { get; set; } = PowerStates.NoState;
    public int? ExitCode { get; set; }
    public string Message { get; set; } = "";
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public bool Restarting { get; set; }

    internal Assignment? Assignment;
    /// <summary>What Compute last acknowledged about it: unchanged reports are not sent again until the next resync.</summary>
    internal WorkloadReport? LastReport;
    readonly SemaphoreSlim gate = new(1, 1);

    /// <summary>Holds the workload's gate until disposed: one change to it at a time.</summary>
    public async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        return new Release(gate);
    }

    sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        int released;
        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) gate.Release();
        }
    }

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public WorkloadReport ToReport(bool absent = false)
    {
        var report = new WorkloadReport
        {
            WorkloadId = WorkloadId, Generation = Generation, PowerState = absent ? PowerStates.NoState : Power, Pid = Handle?.Pid ?? 0,
            StartedAtMs = StartedAt?.ToUnixTimeMilliseconds() ?? 0, FinishedAtMs = FinishedAt?.ToUnixTimeMilliseconds() ?? 0,
            Message = Message, Restarts = Restarts, RestartGeneration = RestartGeneration, Absent = absent, Restarting = Restarting && !absent,
        };
        if (ExitCode is { } code) report.ExitCode = code;
        return report;
    }

    public void Save()
    {
        var file = Path.Combine(Folder, "workload.json");
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    /// <summary>The workloads found in <paramref name="root"/>; unreadable ones are skipped.</summary>
    public static IEnumerable<LocalWorkload> LoadAll(string root)
    {
        if (!Directory.Exists(root)) yield break;
        foreach (var folder in Directory.EnumerateDirectories(root))
        {
            var file = Path.Combine(folder, "workload.json");
            LocalWorkload? workload = null;
            try
            {
                if (File.Exists(file)) workload = JsonSerializer.Deserialize<LocalWorkload>(File.ReadAllText(file), Json);
            }
            catch (JsonException)
            {
            }
            if (workload is not null) yield return workload;
        }
    }
}
