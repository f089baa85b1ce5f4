using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// One workload on this node as the agent knows it, kept in <c>&lt;id&gt;.json</c> in the agent's own state folder
/// (0700, the file 0600, written whole and renamed) — never in the workload's folder, which the workload can write: so
/// an agent that restarts finds its workloads and their processes again, and nothing a workload wrote decides which
/// folder the agent deletes or which process group it signals.
/// </summary>
public sealed class LocalWorkload
{
    public required string WorkloadId { get; init; }
    public required string Name { get; set; }
    public required string Driver { get; init; }
    /// <summary>The workload's folder, derived from its id under the agent's workloads root; never read from a file.</summary>
    [JsonIgnore]
    public string Folder { get; set; } = "";
    /// <summary>Where the agent keeps this record.</summary>
    [JsonIgnore]
    public string StateFile { get; set; } = "";
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
        var temporary = StateFile + ".tmp";
        File.Delete(temporary);
        // Created 0600 from the start, never chmod-ed after writing.
        using (var stream = new FileStream(temporary, new FileStreamOptions
               { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            JsonSerializer.Serialize(stream, this, Json);
        File.Move(temporary, StateFile, overwrite: true);
    }

    /// <summary>Forgets the record (the workload was removed from this node).</summary>
    public void Forget() => File.Delete(StateFile);

    /// <summary>
    /// The workloads recorded in <paramref name="stateRoot"/>; unreadable ones, and any whose file name is not its own
    /// id, are skipped. Each one's folder is derived from its id under <paramref name="folderRoot"/>.
    /// </summary>
    public static IEnumerable<LocalWorkload> LoadAll(string stateRoot, string folderRoot)
    {
        if (!Directory.Exists(stateRoot)) yield break;
        foreach (var file in Directory.EnumerateFiles(stateRoot, "*.json"))
        {
            LocalWorkload? workload = null;
            try
            {
                workload = JsonSerializer.Deserialize<LocalWorkload>(File.ReadAllText(file), Json);
            }
            catch (JsonException)
            {
            }
            if (workload is null || !Guid.TryParse(workload.WorkloadId, out _) || Path.GetFileNameWithoutExtension(file) != workload.WorkloadId) continue;
            (workload.Folder, workload.StateFile) = (Path.Combine(folderRoot, workload.WorkloadId), file);
            if (workload.Handle is { } handle) workload.Handle = handle with { Folder = workload.Folder };
            yield return workload;
        }
    }
}
