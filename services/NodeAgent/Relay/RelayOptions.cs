namespace Platform.NodeAgent.Relay;

/// <summary>Configuration under <c>NodeAgent:Relay</c>: how this node runs the onion relay role when the directory gives it one.</summary>
public sealed class RelayOptions
{
    /// <summary>Where the relay listens for cells; port 0 takes a free port (several agents on one machine).</summary>
    public string Listen { get; set; } = "127.0.0.1:0";

    /// <summary>The address put in the descriptor; default: the listen address (which must then not be a wildcard).</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>How often the agent asks the directory whether it should run a relay.</summary>
    public TimeSpan RolePollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A new onion key this often (Tor: 28 days); the previous one is still accepted for <see cref="OnionKeyOverlap"/>.</summary>
    public TimeSpan OnionKeyRotation { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan OnionKeyOverlap { get; set; } = TimeSpan.FromDays(1);
}
