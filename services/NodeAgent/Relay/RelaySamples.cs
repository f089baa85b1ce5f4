using Platform.NodeAgent.Metrics;
using Platform.Telemetry.V1;

namespace Platform.NodeAgent.Relay;

/// <summary>
/// What the relay measured, shipped with the node's samples: connections, circuits, cells and bytes relayed, exit
/// bytes, protocol violations, the mean extend latency, the self-measured bandwidth, and cells per link to each relay
/// this one connected to. Links from clients are counted in the totals only: a client's address is never a label.
/// </summary>
public sealed class RelaySamples(NodeRelay role) : ISampleSource
{
    public IEnumerable<Sample> Read(string node, DateTimeOffset now)
    {
        if (role.Running is not { } relay) yield break;
        var timestamp = now.ToUnixTimeMilliseconds();
        Sample Make(string name, double value, string? peer = null)
        {
            var sample = new Sample { Name = name, Value = value, TimestampMs = timestamp };
            sample.Labels["node"] = node;
            if (peer is not null) sample.Labels["peer"] = peer;
            return sample;
        }
        var links = relay.Links;
        var counters = relay.Counters;
        yield return Make("relay_connections", links.Count);
        yield return Make("relay_circuits", relay.ActiveCircuits);
        yield return Make("relay_cells_relayed_total", counters.CellsRelayed);
        yield return Make("relay_bytes_relayed_total", counters.BytesRelayed);
        yield return Make("relay_exit_bytes_total", counters.ExitBytes);
        yield return Make("relay_protocol_violations_total", counters.ProtocolViolations);
        yield return Make("relay_bandwidth_bytes_per_second", role.MeasuredBandwidth);
        if (counters.MeanExtendLatencySeconds > 0) yield return Make("relay_extend_latency_seconds", counters.MeanExtendLatencySeconds);
        foreach (var link in links.Where(l => l.Outbound)) yield return Make("relay_link_cells_total", link.Cells, link.Peer);
    }
}
