using System.Globalization;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.V1;

namespace Platform.Scheduler.Priority;

/// <summary>
/// Slurm's multifactor priority, computed for one moment: tier (the SLA tier's factor), age (time waiting, saturating
/// at <see cref="PriorityOptions.MaxAge"/>), size (the share of the cluster's CPU the job asks for; Slurm favours large
/// jobs so they do not starve) and fair share (2^(−usage/share): a user's decayed share of all recent use against an
/// equal share per user, so heavy users wait behind light ones).
/// </summary>
public sealed class MultifactorPriority(PriorityOptions options, DateTimeOffset now, int clusterCpuMillis, IReadOnlyDictionary<string, double> usageShares, int users)
{
    public double Of(JobRow job) => Factors(job).Sum(f => f.Contribution);

    public JobPriority Explain(JobRow job)
    {
        var priority = new JobPriority { JobId = job.JobId.ToString() };
        priority.Factors.AddRange(Factors(job));
        priority.Priority = priority.Factors.Sum(f => f.Contribution);
        return priority;
    }

    IEnumerable<PriorityFactor> Factors(JobRow job)
    {
        var tier = options.TierFactors.GetValueOrDefault(job.SlaTier);
        yield return Factor("tier", tier, options.TierWeight, $"{job.SlaTier} tier");

        var waited = job.Status == JobStates.Pending ? now - job.SubmittedAt : (job.StartedAt ?? job.UpdatedAt) - job.SubmittedAt;
        var age = Math.Clamp(waited / options.MaxAge, 0, 1);
        yield return Factor("age", age, options.AgeWeight, $"waited {waited.TotalSeconds:0} s of the {options.MaxAge.TotalSeconds:0} s at which age counts fully");

        var size = clusterCpuMillis > 0 ? Math.Clamp((double)job.CpuMillis / clusterCpuMillis, 0, 1) : 0;
        yield return Factor("size", size, options.SizeWeight, clusterCpuMillis > 0
            ? $"{job.CpuMillis / 1000.0:0.###} of the cluster's {clusterCpuMillis / 1000.0:0.###} cores"
            : "no node is known, so the cluster's size is not");

        var share = usageShares.GetValueOrDefault(job.Owner);
        var fairShare = Math.Pow(2, -share * Math.Max(1, users));
        yield return Factor("fair-share", fairShare, options.FairShareWeight,
            $"{job.Owner} used {share:P1} of the cluster's recent CPU time against a fair share of {1.0 / Math.Max(1, users):P1} ({Math.Max(1, users)} users)");
    }

    static PriorityFactor Factor(string name, double factor, double weight, string explanation) => new()
    {
        Name = name, Factor = Math.Round(factor, 6), Weight = weight, Contribution = Math.Round(factor * weight, 6),
        Explanation = explanation.ToString(CultureInfo.InvariantCulture),
    };
}
