using Platform.Onion;
using Platform.Onion.Directory;

namespace Platform.Privacy.Relays;

/// <summary>
/// Tor's flag rules (dir-spec §3.4.2) scaled to a cluster, computed over the relays that are Running: Fast for the top
/// 7/8 by bandwidth, Stable for uptime at or above the median, Guard for Fast and Stable relays in the top quarter by
/// bandwidth, Exit for relays whose policy accepts something. Ties at a threshold share the flag.
/// </summary>
public static class ConsensusFlags
{
    public sealed record Candidate(string Node, bool Running, long Bandwidth, TimeSpan Uptime, IReadOnlyList<string> ExitPolicy);

    public static IReadOnlyDictionary<string, string[]> Assign(IReadOnlyList<Candidate> candidates)
    {
        var running = candidates.Where(c => c.Running).ToList();
        var byBandwidth = running.Select(c => c.Bandwidth).OrderDescending().ToList();
        var uptimes = running.Select(c => c.Uptime).Order().ToList();
        long Threshold(double fraction) => byBandwidth.Count == 0 ? long.MaxValue : byBandwidth[Math.Max(0, (int)Math.Ceiling(fraction * byBandwidth.Count) - 1)];
        var fast = Threshold(7 / 8.0);
        var guard = Threshold(1 / 4.0);
        var medianUptime = uptimes.Count == 0 ? TimeSpan.MaxValue : uptimes[(uptimes.Count - 1) / 2];

        return candidates.ToDictionary(c => c.Node, c =>
        {
            if (!c.Running) return Array.Empty<string>();
            var flags = new List<string> { RelayFlags.Running };
            var isFast = c.Bandwidth >= fast;
            var isStable = c.Uptime >= medianUptime;
            if (isFast) flags.Add(RelayFlags.Fast);
            if (isStable) flags.Add(RelayFlags.Stable);
            if (isFast && isStable && c.Bandwidth >= guard) flags.Add(RelayFlags.Guard);
            if (AllowsExit(c.ExitPolicy)) flags.Add(RelayFlags.Exit);
            return flags.ToArray();
        });
    }

    static bool AllowsExit(IReadOnlyList<string> policy)
    {
        try
        {
            return Onion.ExitPolicy.Parse(policy).AllowsAny;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
