using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Ingestion;

/// <summary>Configuration under <c>Telemetry:Limits</c>; 0 turns a limit off.</summary>
public sealed class IngestionLimitOptions
{
    /// <summary>Sustained samples per second per agent; bursts of <see cref="BurstSeconds"/> times that are let through.</summary>
    public double SamplesPerSecond { get; set; } = 50_000;
    public double BurstSeconds { get; set; } = 10;

    /// <summary>Distinct series one agent may write to.</summary>
    public int MaxSeriesPerAgent { get; set; } = 50_000;
}

/// <summary>
/// Per-agent limits on every ingestion path: a token bucket of samples per second and a cap on distinct series. A
/// batch over a limit is refused whole with RESOURCE_EXHAUSTED (HTTP 429) saying which limit and when to retry, and
/// nothing of it is stored. The counters live in this replica: with several replicas each enforces its own share.
/// </summary>
public sealed class IngestionLimits(IOptions<IngestionLimitOptions> options, TimeProvider clock)
{
    readonly ConcurrentDictionary<string, Budget> budgets = new();

    public void Admit(string agentId, IReadOnlyList<StoredSample> samples)
    {
        var limits = options.Value;
        var budget = budgets.GetOrAdd(agentId, _ => new Budget(limits.SamplesPerSecond * limits.BurstSeconds, clock.GetTimestamp()));
        lock (budget)
        {
            if (limits.SamplesPerSecond > 0)
            {
                var capacity = limits.SamplesPerSecond * limits.BurstSeconds;
                var now = clock.GetTimestamp();
                budget.Tokens = Math.Min(capacity, budget.Tokens + clock.GetElapsedTime(budget.Refilled, now).TotalSeconds * limits.SamplesPerSecond);
                budget.Refilled = now;
                if (samples.Count > budget.Tokens)
                {
                    var wait = TimeSpan.FromSeconds((samples.Count - budget.Tokens) / limits.SamplesPerSecond);
                    throw Exhausted($"agent '{agentId}' may send {limits.SamplesPerSecond:0} samples/s (bursts of {capacity:0}); retry in {Math.Ceiling(wait.TotalMilliseconds):0} ms");
                }
            }
            if (limits.MaxSeriesPerAgent > 0)
            {
                var added = samples.Select(s => s.Series.Identity).Where(id => !budget.Series.Contains(id)).Distinct().Count();
                if (budget.Series.Count + added > limits.MaxSeriesPerAgent)
                    throw Exhausted($"agent '{agentId}' may write at most {limits.MaxSeriesPerAgent} series; this batch would make {budget.Series.Count + added}");
                foreach (var sample in samples) budget.Series.Add(sample.Series.Identity);
            }
            if (limits.SamplesPerSecond > 0) budget.Tokens -= samples.Count;
        }
    }

    /// <summary>Whom an HTTP sender's samples count against: its token's subject.</summary>
    public static string SenderOf(HttpContext http) => Callers.Name(http.User);

    static RpcException Exhausted(string message) => new(new Status(StatusCode.ResourceExhausted, message));

    sealed class Budget(double tokens, long refilled)
    {
        public double Tokens = tokens;
        public long Refilled = refilled;
        public readonly HashSet<string> Series = [];
    }
}
