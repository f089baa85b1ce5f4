using System.Text.RegularExpressions;
using Google.Protobuf.Collections;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Jobs;

/// <summary>
/// The rules a job must meet, checked before anything is written: each fails with InvalidArgument naming every bad
/// field. The workload part follows Compute's own rules, so a job that is accepted is one Compute will run.
/// </summary>
public static partial class JobRequests
{
    static readonly string[] Drivers = ["process", "sandbox", "qemu"];
    const string NameRule = "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
    const string LabelRule = "at most 32 labels; keys 1-63 characters, values up to 256";
    const long MaxSeconds = 366L * 24 * 3600;

    public static JobRow NewJob(SubmitJobRequest request, string owner, DateTimeOffset now)
    {
        var driver = request.Driver == "" ? "process" : request.Driver;
        var tier = request.SlaTier == "" ? SlaTiers.Bronze : request.SlaTier;
        var cpu = request.CpuRequired == 0 ? 1.0 : request.CpuRequired;
        var memory = request.MemoryRequired == 0 ? 256 : request.MemoryRequired;
        var estimate = request.EstimatedRuntimeSeconds == 0 ? 60 : request.EstimatedRuntimeSeconds;
        var dependencies = request.DependsOn.Select(d => Guid.TryParse(d, out var id) ? id : Guid.Empty).ToArray();
        new RequestValidation()
            .Require(NameRegex().IsMatch(request.Name), "name", NameRule)
            .Require(SlaTiers.All.Contains(tier), "sla_tier", "must be gold, silver or bronze")
            .Require(double.IsFinite(cpu) && cpu is >= 0.001 and <= 1000, "cpu_required", "must be between 0.001 and 1000 cores")
            .Require(memory is >= 1 and <= 16L << 20, "memory_required", "must be between 1 and 16777216 MiB")
            .Require(request.GpuRequired is >= 0 and <= 64, "gpu_required", "must be between 0 and 64")
            .Require(estimate is > 0 and <= MaxSeconds, "estimated_runtime_seconds", "must be between 1 and 31622400 (a year)")
            .Require(request.MaxRuntimeSeconds is >= 0 and <= MaxSeconds, "max_runtime_seconds", "must be between 0 (no limit) and 31622400")
            .Require(request.DeadlineMs == 0 || request.DeadlineMs > now.ToUnixTimeMilliseconds(), "deadline_ms", "must be in the future (milliseconds since the Unix epoch), or 0 for none")
            .Require(request.DeadlineMs <= now.AddYears(10).ToUnixTimeMilliseconds(), "deadline_ms", "must be within ten years")
            .Require(Drivers.Contains(driver), "driver", "must be process, sandbox or qemu")
            .Require(driver == "qemu" || request.Command.Length is > 0 and <= 4096, "command", "is required for the process and sandbox drivers (at most 4096 characters)")
            .Require(driver != "qemu" || Compute.V1.DiskImages.IsName(request.Image), "image", $"the qemu driver needs {Compute.V1.DiskImages.Rule}")
            .Require(request.Args.Count <= 256 && request.Args.All(a => a.Length <= 4096), "args", "at most 256, each up to 4096 characters")
            .Require(ValidLabels(request.NodeSelector), "node_selector", LabelRule)
            .Require(ValidLabels(request.Labels), "labels", LabelRule)
            .Require(ValidLabels(request.Affinity), "affinity", LabelRule)
            .Require(ValidLabels(request.AntiAffinity), "anti_affinity", LabelRule)
            .Require(request.DependsOn.Count <= 64, "depends_on", "at most 64 jobs")
            .Require(dependencies.All(d => d != Guid.Empty), "depends_on", "must be job ids (UUIDs)")
            .ThrowIfInvalid();
        return new JobRow
        {
            JobId = Guid.CreateVersion7(now), Name = request.Name, Owner = owner, SlaTier = tier, Status = JobStates.Pending, Reason = JobReasons.Submitted,
            CpuMillis = Math.Max(1, (int)Math.Round(cpu * 1000)), MemoryMib = memory, GpuCount = request.GpuRequired, EstimatedRuntimeS = estimate,
            MaxRuntimeS = request.MaxRuntimeSeconds, Deadline = request.DeadlineMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(request.DeadlineMs),
            Driver = driver, Command = request.Command, Args = [.. request.Args], Image = request.Image, NodeSelector = request.NodeSelector.ToDictionary(),
            Labels = request.Labels.ToDictionary(), Affinity = request.Affinity.ToDictionary(), AntiAffinity = request.AntiAffinity.ToDictionary(),
            DependsOn = dependencies.Distinct().ToArray(), Preemptible = request.Preemptible, SubmittedAt = now, UpdatedAt = now,
        };
    }

    /// <summary>A pending job with the update's fields applied, each checked as on submit.</summary>
    public static JobRow Apply(JobRow job, UpdateJobRequest update, DateTimeOffset now)
    {
        var changed = job with
        {
            Name = update.HasName ? update.Name : job.Name,
            SlaTier = update.HasSlaTier ? update.SlaTier : job.SlaTier,
            CpuMillis = update.HasCpuRequired && double.IsFinite(update.CpuRequired) ? Math.Max(1, (int)Math.Round(Math.Clamp(update.CpuRequired, 0, 1e6) * 1000)) : job.CpuMillis,
            MemoryMib = update.HasMemoryRequired ? update.MemoryRequired : job.MemoryMib,
            GpuCount = update.HasGpuRequired ? update.GpuRequired : job.GpuCount,
            EstimatedRuntimeS = update.HasEstimatedRuntimeSeconds ? update.EstimatedRuntimeSeconds : job.EstimatedRuntimeS,
            MaxRuntimeS = update.HasMaxRuntimeSeconds ? update.MaxRuntimeSeconds : job.MaxRuntimeS,
            Deadline = update.HasDeadlineMs ? (update.DeadlineMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(update.DeadlineMs, 0, 253402300799999))) : job.Deadline,
            Preemptible = update.HasPreemptible ? update.Preemptible : job.Preemptible,
            NodeSelector = update.ReplaceNodeSelector ? update.NodeSelector.ToDictionary() : job.NodeSelector,
            UpdatedAt = now,
        };
        new RequestValidation()
            .Require(NameRegex().IsMatch(changed.Name), "name", NameRule)
            .Require(SlaTiers.All.Contains(changed.SlaTier), "sla_tier", "must be gold, silver or bronze")
            .Require(!update.HasCpuRequired || double.IsFinite(update.CpuRequired) && update.CpuRequired is >= 0.001 and <= 1000, "cpu_required", "must be between 0.001 and 1000 cores")
            .Require(changed.MemoryMib is >= 1 and <= 16L << 20, "memory_required", "must be between 1 and 16777216 MiB")
            .Require(changed.GpuCount is >= 0 and <= 64, "gpu_required", "must be between 0 and 64")
            .Require(changed.EstimatedRuntimeS is > 0 and <= MaxSeconds, "estimated_runtime_seconds", "must be between 1 and 31622400 (a year)")
            .Require(changed.MaxRuntimeS is >= 0 and <= MaxSeconds, "max_runtime_seconds", "must be between 0 (no limit) and 31622400")
            .Require(!update.HasDeadlineMs || update.DeadlineMs == 0 || update.DeadlineMs > now.ToUnixTimeMilliseconds() && update.DeadlineMs <= now.AddYears(10).ToUnixTimeMilliseconds(),
                "deadline_ms", "must be in the future and within ten years, or 0 for none")
            .Require(ValidLabels(update.NodeSelector), "node_selector", LabelRule)
            .ThrowIfInvalid();
        return changed;
    }

    static bool ValidLabels(MapField<string, string> labels) =>
        labels.Count <= 32 && labels.All(l => l.Key.Length is > 0 and <= 63 && l.Value.Length <= 256);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$")]
    private static partial Regex NameRegex();
}
