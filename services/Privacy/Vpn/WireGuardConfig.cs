using System.Text;

namespace Platform.Privacy.Vpn;

/// <summary>
/// A peer's config in wg-quick's format: its interface (the newest key's address) and one [Peer] section per key of
/// every other active peer — two for a peer in a rotation's overlap, each with its own address. <c>wg-quick strip</c>
/// (or dropping the Address line) gives what <c>wg setconf</c> takes.
/// </summary>
public static class WireGuardConfig
{
    public sealed record Interface(string Name, int Generation, string Address, int PoolPrefix, string? PrivateKey, int? ListenPort, bool Roaming);

    public sealed record PeerSection(string Name, int Generation, string PublicKey, string Address, IReadOnlyList<string> AllowedIps, string? Endpoint, string? PresharedKey);

    public static string Render(Interface self, IEnumerable<PeerSection> peers)
    {
        var text = new StringBuilder();
        text.Append("# ").Append(self.Name).Append(", key generation ").Append(self.Generation).Append(" — made by the platform's VPN coordinator\n");
        text.Append("[Interface]\n");
        if (self.PrivateKey is { } key) text.Append("PrivateKey = ").Append(key).Append('\n');
        else text.Append("# PrivateKey: not here — it was shown once, or you supplied your own; add it yourself\n");
        text.Append("Address = ").Append(self.Address).Append('/').Append(self.PoolPrefix).Append('\n');
        if (self.ListenPort is { } port) text.Append("ListenPort = ").Append(port).Append('\n');
        foreach (var peer in peers)
        {
            text.Append("\n# ").Append(peer.Name).Append(", key generation ").Append(peer.Generation).Append('\n');
            text.Append("[Peer]\n");
            text.Append("PublicKey = ").Append(peer.PublicKey).Append('\n');
            if (peer.PresharedKey is { } psk) text.Append("PresharedKey = ").Append(psk).Append('\n');
            text.Append("AllowedIPs = ").Append(string.Join(", ", [$"{peer.Address}/{(peer.Address.Contains(':') ? 128 : 32)}", .. peer.AllowedIps])).Append('\n');
            if (peer.Endpoint is { } endpoint) text.Append("Endpoint = ").Append(endpoint).Append('\n');
            // A peer without an endpoint of its own is reachable only after it speaks: it keeps its NAT mapping open.
            if (self.Roaming) text.Append("PersistentKeepalive = 25\n");
        }
        return text.ToString();
    }
}
