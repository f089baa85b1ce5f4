using System.Net;

namespace Platform.Onion;

/// <summary>
/// Where an exit may connect, as ordered rules like Tor's: <c>accept 127.0.0.0/8:*</c>, <c>accept [::1]:80-443</c>,
/// <c>reject *:*</c>. The first rule that matches decides; an address no rule matches is refused. Rules are checked
/// against the address the exit is about to connect to — after name resolution, so a name cannot point an exit at a
/// host its policy refuses.
/// </summary>
public sealed class ExitPolicy
{
    public static readonly IReadOnlyList<string> Default = ["accept 127.0.0.0/8:*", "accept [::1]:*", "reject *:*"];

    readonly List<Rule> rules;

    /// <summary>
    /// Never reached through an exit, whatever the rules say: "this host" (0.0.0.0/8, ::, which Linux connects to the
    /// machine itself, past any loopback rule), link-local (cloud metadata services live there), multicast and broadcast.
    /// </summary>
    static readonly IPNetwork[] NeverExit = [.. new[] { "0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32", "::/128", "fe80::/10", "ff00::/8" }.Select(IPNetwork.Parse)];

    ExitPolicy(List<Rule> rules, IReadOnlyList<string> text)
    {
        this.rules = rules;
        Text = text;
    }

    public IReadOnlyList<string> Text { get; }

    /// <summary>True when some rule accepts anything: the relay deserves the Exit flag.</summary>
    public bool AllowsAny => rules.Any(r => r.Accept);

    public static ExitPolicy Parse(IEnumerable<string> lines)
    {
        var text = lines.Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        return new ExitPolicy([.. text.Select(ParseRule)], text);
    }

    public bool Allows(IPAddress address, int port)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (NeverExit.Any(n => n.Contains(address))) return false;
        foreach (var rule in rules)
            if (rule.Matches(address, port)) return rule.Accept;
        return false;
    }

    static Rule ParseRule(string line)
    {
        var parts = line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[0] is not ("accept" or "reject")) throw new FormatException($"exit policy rule '{line}': expected 'accept|reject address:ports'");
        var target = parts[1];
        var colon = target.LastIndexOf(':');
        if (colon <= 0) throw new FormatException($"exit policy rule '{line}': no ports");
        var (low, high) = ParsePorts(target[(colon + 1)..], line);
        var address = target[..colon].Trim('[', ']');
        IPNetwork? network = address == "*" ? null
            : IPNetwork.TryParse(address.Contains('/') ? address : address + (address.Contains(':') ? "/128" : "/32"), out var parsed) ? parsed
            : throw new FormatException($"exit policy rule '{line}': '{address}' is not an address or prefix");
        return new Rule(parts[0] == "accept", network, low, high);
    }

    static (int, int) ParsePorts(string ports, string line)
    {
        if (ports == "*") return (1, 65535);
        var range = ports.Split('-');
        if (range.Length is 1 or 2 && int.TryParse(range[0], out var low) && int.TryParse(range[^1], out var high) && low is >= 1 and <= 65535 && high >= low && high <= 65535)
            return (low, high);
        throw new FormatException($"exit policy rule '{line}': bad ports '{ports}'");
    }

    sealed record Rule(bool Accept, IPNetwork? Network, int Low, int High)
    {
        public bool Matches(IPAddress address, int port) => port >= Low && port <= High && (Network is not { } network || network.Contains(address));
    }
}
