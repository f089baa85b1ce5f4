namespace Platform.Privacy.Relays;

/// <summary>Configuration under <c>Privacy</c>.</summary>
public sealed class PrivacyOptions
{
    /// <summary>How often the authority probes the relays and signs a consensus; a consensus is fresh for one interval and valid for three.</summary>
    public TimeSpan ConsensusInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often relays publish their descriptor; a relay silent for three intervals is not Running.</summary>
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The file holding the authority's Ed25519 signing key (made on first start, mode 0600; replicas share it).</summary>
    public string? AuthorityKeyFile { get; set; }

    /// <summary>The file holding the key that seals the VPN's private and preshared keys; default: beside the authority key.</summary>
    public string? VpnKeyFile { get; set; }

    /// <summary>The VPN's address pool: each peer key generation gets one address from it.</summary>
    public string VpnPool { get; set; } = "10.77.0.0/16";

    /// <summary>How long a rotated-out key keeps working (listed in every config beside the new one).</summary>
    public TimeSpan VpnRotationOverlap { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Where the SOCKS5 entry listens (like Tor's SocksPort); empty: no entry.</summary>
    public string SocksListen { get; set; } = "127.0.0.1:9050";

    /// <summary>Circuits take new streams for this long after their first, then close once idle (Tor's MaxCircuitDirtiness).</summary>
    public TimeSpan MaxCircuitDirtiness { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The most bandwidth a relay may claim (a hostile relay claiming more would draw every circuit): 10 Gbit/s.</summary>
    public long MaxClaimedBandwidth { get; set; } = 1_250_000_000;
}
