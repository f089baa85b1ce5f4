using System.Globalization;
using Platform.Scheduler.Jobs;

namespace Platform.Scheduler.Placement;

/// <summary>One reason a node cannot take a job; a permanent one holds whatever frees up (a label, a driver, capacity in all).</summary>
public sealed record FitProblem(string Constraint, string Message, bool Permanent);

/// <summary>
/// Whether a node can take a job, with every reason it cannot — not only the first (what Kubernetes and Nomad users
/// ask for most): readiness, cordon and admission, driver, labels, CPU, memory and GPU (in all, and free now),
/// affinity and anti-affinity with the jobs already on the node.
/// </summary>
public static class JobFit
{
    public static List<FitProblem> Problems(JobRow job, ClusterNode node, IReadOnlyCollection<JobRow> jobsOnNode)
    {
        var problems = new List<FitProblem>();
        if (!node.Ready) problems.Add(new("not-ready", $"the node is {node.Status}", true));
        if (node.Admission != "admitted") problems.Add(new("not-ready", $"the node's admission is {node.Admission}", true));
        if (node.Draining) problems.Add(new("cordoned", "the node is draining", true));
        else if (!node.Schedulable) problems.Add(new("cordoned", "the node is cordoned", true));
        if (!node.Drivers.Contains(job.Driver)) problems.Add(new("driver", $"the {job.Driver} driver is not available on the node", true));
        foreach (var (key, value) in job.NodeSelector)
            if (!node.Labels.TryGetValue(key, out var actual) || actual != value)
                problems.Add(new("label", actual is null ? $"label {key}={value} wanted; the node has no {key}" : $"label {key}={value} wanted; the node has {key}={actual}", true));
        Resource(problems, "cpu", job.CpuMillis / 1000.0, node.CpuMillis / 1000.0, node.FreeCpuMillis / 1000.0, "cores");
        Resource(problems, "memory", job.MemoryMib, node.MemoryMib, node.FreeMemoryMib, "MiB");
        if (job.GpuCount > 0) Resource(problems, "gpu", job.GpuCount, node.Gpus, node.FreeGpus, "GPUs");
        if (job.Affinity.Count > 0 && !jobsOnNode.Any(j => Matches(j, job.Affinity)))
            problems.Add(new("affinity", $"no job with {Selector(job.Affinity)} runs on the node", false));
        if (job.AntiAffinity.Count > 0 && jobsOnNode.Any(j => Matches(j, job.AntiAffinity)))
            problems.Add(new("anti-affinity", $"a job with {Selector(job.AntiAffinity)} runs on the node", false));
        // Anti-affinity binds both ways: a job already there may refuse this one.
        if (jobsOnNode.Any(j => j.AntiAffinity.Count > 0 && Matches(job, j.AntiAffinity)))
            problems.Add(new("anti-affinity", "a job on the node may not share it with a job labelled like this one", false));
        return problems;
    }

    /// <summary>Whether the node could take the job once enough of its work has finished.</summary>
    public static bool CouldEverTake(JobRow job, ClusterNode node) => Problems(job, node, []).All(p => !p.Permanent);

    /// <summary>Whether <paramref name="job"/>'s labels include every one of <paramref name="selector"/>.</summary>
    public static bool Matches(JobRow job, IReadOnlyDictionary<string, string> selector) =>
        selector.All(s => job.Labels.TryGetValue(s.Key, out var value) && value == s.Value);

    static void Resource(List<FitProblem> problems, string constraint, double needed, double total, double free, string unit)
    {
        if (needed > total)
            problems.Add(new(constraint, string.Create(CultureInfo.InvariantCulture, $"needs {needed:0.###} {unit}; the node has {total:0.###} in all"), true));
        else if (needed > free)
            problems.Add(new(constraint, string.Create(CultureInfo.InvariantCulture, $"needs {needed:0.###} {unit}; {Math.Max(0, free):0.###} of {total:0.###} free"), false));
    }

    static string Selector(IReadOnlyDictionary<string, string> selector) => string.Join(",", selector.Select(s => $"{s.Key}={s.Value}"));
}
