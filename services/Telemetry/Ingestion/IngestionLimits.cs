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

    /// <summary>Distinct series one agent may write to at a time.</summary>
    public int MaxSeriesPerAgent { get; set; } = 50_000;

    /// <summary>A series the agent has not written for this long leaves its budget (a workload that ended, say).</summary>
    public TimeSpan SeriesIdleAfter { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Per-agent limits on every ingestion path: a token bucket of samples per second and a cap on the distinct series
/// written lately (a series unwritten for <see cref="IngestionLimitOptions.SeriesIdleAfter"/> leaves the budget, so
/// workloads that come and go do not fill it for good). A batch over a limit is refused whole with RESOURCE_EXHAUSTED
/// (HTTP 429) saying which limit, and nothing of it is stored; over the rate, the refusal carries a google.rpc.RetryInfo
/// with when to try again, over the series cap it carries none (the same batch would be refused again). The counters
/// live in this replica: with several replicas each enforces its own share.
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
                    if (samples.Count > capacity)
                        throw Exhausted($"agent '{agentId}' may send at most {capacity:0} samples at once ({limits.SamplesPerSecond:0} samples/s, bursts of {limits.BurstSeconds:0} s); this batch has {samples.Count}", retryAfter: null);
                    var wait = TimeSpan.FromSeconds((samples.Count - budget.Tokens) / limits.SamplesPerSecond);
                    throw Exhausted($"agent '{agentId}' may send {limits.SamplesPerSecond:0} samples/s (bursts of {capacity:0}); retry in {Math.Ceiling(wait.TotalMilliseconds):0} ms", wait);
                }
            }
            if (limits.MaxSeriesPerAgent > 0)
            {
                var now = clock.GetUtcNow();
                var added = samples.Select(s => s.Series.Identity).Where(id => !budget.Series.ContainsKey(id)).Distinct().Count();
                if (budget.Series.Count + added > limits.MaxSeriesPerAgent && limits.SeriesIdleAfter > TimeSpan.Zero)
                    ForgetIdleSeries(budget, now - limits.SeriesIdleAfter);
                if (budget.Series.Count + added > limits.MaxSeriesPerAgent)
                    throw Exhausted($"agent '{agentId}' may write at most {limits.MaxSeriesPerAgent} series within {limits.SeriesIdleAfter.TotalMinutes:0} minutes; this batch would make {budget.Series.Count + added}", retryAfter: null);
                foreach (var sample in samples) budget.Series[sample.Series.Identity] = now;
            }
            if (limits.SamplesPerSecond > 0) budget.Tokens -= samples.Count;
        }
    }

    /// <summary>Whom an HTTP sender's samples count against: its token's subject.</summary>
    public static string SenderOf(HttpContext http) => Callers.Name(http.User);

    /// <summary>Removes the series last written before <paramref name="before"/>: a full budget is swept only when it must be.</summary>
    static void ForgetIdleSeries(Budget budget, DateTimeOffset before)
    {
        foreach (var (series, lastWritten) in budget.Series)
            if (lastWritten < before) budget.Series.Remove(series);
    }

    static RpcException Exhausted(string message, TimeSpan? retryAfter)
    {
        var status = new Google.Rpc.Status { Code = (int)Google.Rpc.Code.ResourceExhausted, Message = message };
        if (retryAfter is { } wait)
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(new Google.Rpc.RetryInfo { RetryDelay = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(wait) }));
        return status.ToRpcException();
    }

    sealed class Budget(double tokens, long refilled)
    {
        public double Tokens = tokens;
        public long Refilled = refilled;
        /// <summary>Each series this agent wrote, with when it last did.</summary>
        public readonly Dictionary<string, DateTimeOffset> Series = [];
    }
}
