using System.Net;
using System.Security.Cryptography;
using Platform.Onion.Directory;

namespace Platform.Onion.Client;

/// <summary>
/// Picks a circuit's three relays from a verified consensus, as Tor does in spirit: only Running relays; the exit
/// first, among relays flagged Exit whose policy accepts the port; then the guard, among Guard relays (or, in a
/// cluster too small to have any, Fast ones, then any); then a middle. Three distinct relays, each drawn with
/// probability proportional to its measured bandwidth (a relay that has measured nothing yet weighs as 1 KB/s).
/// </summary>
public static class PathSelection
{
    public const int Hops = 3;
    const long MinimumWeight = 1024;

    public static IReadOnlyList<ConsensusRelay> Choose(ConsensusDocument consensus, int port)
    {
        var running = consensus.Relays.Where(r => r.Has(RelayFlags.Running) && IPAddress.TryParse(r.Address, out _)).ToList();
        if (running.Count < Hops) throw new OnionException($"the consensus lists {running.Count} running relays; a circuit needs {Hops}");
        var exits = running.Where(r => r.Has(RelayFlags.Exit) && AcceptsPort(r, port)).ToList();
        if (exits.Count == 0) throw new OnionException($"no running exit accepts port {port}");
        var exit = Weighted(exits);
        var rest = running.Where(r => r.NodeId != exit.NodeId).ToList();
        var guards = rest.Where(r => r.Has(RelayFlags.Guard)).ToList() is { Count: > 0 } flagged ? flagged
            : rest.Where(r => r.Has(RelayFlags.Fast)).ToList() is { Count: > 0 } fast ? fast : rest;
        var guard = Weighted(guards);
        var middle = Weighted([.. rest.Where(r => r.NodeId != guard.NodeId)]);
        return [guard, middle, exit];
    }

    internal static bool AcceptsPort(ConsensusRelay relay, int port)
    {
        try
        {
            // Some address on that port: which one the exit will reach is only known once it resolves the name.
            return relay.ExitPolicy.Select(l => l.Trim()).TakeWhile(l => !l.StartsWith("reject *:", StringComparison.Ordinal))
                .Any(l => l.StartsWith("accept ", StringComparison.Ordinal) && ExitPolicy.Parse([l, "reject *:*"]).Allows(SampleAddress(l), port));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    static IPAddress SampleAddress(string rule)
    {
        var target = rule["accept ".Length..];
        var address = target[..target.LastIndexOf(':')].Trim('[', ']');
        if (address == "*") return IPAddress.Loopback;
        var slash = address.IndexOf('/');
        return IPAddress.Parse(slash < 0 ? address : address[..slash]);
    }

    static ConsensusRelay Weighted(IReadOnlyList<ConsensusRelay> candidates)
    {
        if (candidates.Count == 0) throw new OnionException("not enough distinct relays for a circuit");
        var weights = candidates.Select(r => Math.Max(r.BandwidthBytesPerSecond, MinimumWeight)).ToArray();
        var total = weights.Sum();
        var point = RandomNumberGenerator.GetInt32(int.MaxValue) / (double)int.MaxValue * total;
        for (var i = 0; i < candidates.Count; i++)
        {
            point -= weights[i];
            if (point < 0) return candidates[i];
        }
        return candidates[^1];
    }
}
