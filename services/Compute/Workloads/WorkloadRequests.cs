using System.Text.RegularExpressions;
using Google.Protobuf.Collections;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Compute.Workloads;

/// <summary>
/// The rules a workload request must meet, in one place for every caller (the workload API, sessions): each fails
/// with InvalidArgument naming every bad field, before anything is written.
/// </summary>
public static partial class WorkloadRequests
{
    public static readonly string[] Drivers = ["process", "sandbox", "qemu", "benchmark"];
    /// <summary>What the benchmark driver runs: only the platform's own NodeBench, one of these.</summary>
    public static readonly string[] BenchmarkCommands = ["cpu", "memory", "disk", "network-server", "network-client"];

    const string NameRule = "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit";
    const string LabelRule = "at most 64 labels; keys 1-63 characters, values up to 256";

    /// <summary>Fills the defaults and checks every field of a new workload.</summary>
    public static CreateWorkloadRequest Normalize(CreateWorkloadRequest request)
    {
        var n = request.Clone();
        if (n.Driver == "") n.Driver = "process";
        if (n.CpuMillis == 0) n.CpuMillis = 1000;
        if (n.MemoryBytes == 0) n.MemoryBytes = 256L << 20;
        if (n.RestartPolicy == "") n.RestartPolicy = RestartPolicies.Never;
        if (n.Name == "") n.Name = $"{n.Driver}-{Guid.NewGuid().ToString("N")[..8]}";
        if (n.Network == "") n.Network = n.Driver is "process" or "benchmark" ? WorkloadNetworks.Host : WorkloadNetworks.None;
        new RequestValidation()
            .Require(WorkloadName().IsMatch(n.Name), "name", NameRule)
            .Require(Drivers.Contains(n.Driver), "driver", "must be process, sandbox, qemu or benchmark")
            .Require(n.Driver != "benchmark" || BenchmarkCommands.Contains(n.Command), "command", $"the benchmark driver runs one of {string.Join(", ", BenchmarkCommands)}")
            .Require(n.Driver == "qemu" || n.Command.Length is > 0 and <= 4096, "command", "is required for the process and sandbox drivers (at most 4096 characters)")
            .Require(n.Driver != "qemu" || n.Image.Length > 0, "image", "is required for the qemu driver")
            .Require(n.Driver != "qemu" || n.Image.Length == 0 || DiskImages.IsName(n.Image), "image", $"must be {DiskImages.Rule}")
            .Require(n.Args.Count <= 256 && n.Args.All(a => a.Length <= 4096), "args", "at most 256, each up to 4096 characters")
            .Require(n.Env.Count <= 128 && n.Env.Keys.All(EnvName().IsMatch), "env", "at most 128 variables with names of letters, digits and '_' not starting with a digit")
            .Require(n.CpuMillis is > 0 and <= 1_000_000, "cpu_millis", "must be between 1 and 1000000")
            .Require(n.MemoryBytes >= 1 << 20, "memory_bytes", "must be at least 1 MiB (1048576)")
            .Require(n.GpuCount is >= 0 and <= 64, "gpu_count", "must be between 0 and 64")
            .Require(n.NodeId == "" || Guid.TryParse(n.NodeId, out _), "node_id", "must be a UUID")
            .Require(n.NodeSelector.Count <= 32, "node_selector", "at most 32 labels")
            .Require(RestartPolicies.All.Contains(n.RestartPolicy), "restart_policy", "must be never, on-failure or always")
            .Require(ValidLabels(n.Labels), "labels", LabelRule)
            .Require(n.Network is WorkloadNetworks.None or WorkloadNetworks.Host, "network", "must be none or host")
            .Require(n.Driver is not ("process" or "benchmark") || n.Network != WorkloadNetworks.None, "network", "the process driver runs in the node's network: use the sandbox driver for none")
            .Require(n.Driver != "qemu" || n.Network != WorkloadNetworks.Host, "network", "the qemu driver gives the guest no network card: only none")
            .Require(n.IdempotencyKey.Length <= 128, "idempotency_key", "at most 128 characters")
            .ThrowIfInvalid();
        return n;
    }

    /// <summary>An update's change: empty fields keep their values, labels change only when asked to be replaced.</summary>
    public static WorkloadChange Change(UpdateWorkloadRequest request)
    {
        new RequestValidation()
            .Require(request.Name == "" || WorkloadName().IsMatch(request.Name), "name", NameRule)
            .Require(request.RestartPolicy == "" || RestartPolicies.All.Contains(request.RestartPolicy), "restart_policy", "must be never, on-failure or always")
            .Require(ValidLabels(request.Labels), "labels", LabelRule)
            .ThrowIfInvalid();
        return new WorkloadChange
        {
            Name = request.Name == "" ? null : request.Name,
            RestartPolicy = request.RestartPolicy == "" ? null : request.RestartPolicy,
            Labels = request.ReplaceLabels ? request.Labels.ToDictionary() : null,
        };
    }

    /// <summary>A stop's change: how long the agent waits after SIGTERM (10 s unless given).</summary>
    public static WorkloadChange Change(StopWorkloadRequest request)
    {
        new RequestValidation().Require(request.TimeoutMs is >= 0 and <= 3_600_000, "timeout_ms", "must be between 0 and 3600000 (one hour)").ThrowIfInvalid();
        return new WorkloadChange { StopTimeoutMs = request.TimeoutMs == 0 ? 10_000L : request.TimeoutMs, ForceStop = false };
    }

    public static void Validate(ListWorkloadsRequest request) =>
        new RequestValidation()
            .Require(request.NodeId == "" || Guid.TryParse(request.NodeId, out _), "node_id", "must be a UUID")
            .Require(request.Label == "" || request.Label.Contains('='), "label", "must be label=value")
            .ThrowIfInvalid();

    static bool ValidLabels(MapField<string, string> labels) =>
        labels.Count <= 64 && labels.All(l => l.Key.Length is > 0 and <= 63 && l.Value.Length <= 256);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$")]
    private static partial Regex WorkloadName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex EnvName();
}
