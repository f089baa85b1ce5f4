namespace Platform.Gateway.Door;

/// <summary>Requests per minute the gateway admits (<c>Gateway:RateLimits</c>); 0 turns a limit off.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Per user, API token or agent (the token's subject), whatever its address.</summary>
    public int PerCallerPerMinute { get; set; } = 1200;

    /// <summary>Per client address, for callers without a token.</summary>
    public int PerAddressPerMinute { get; set; } = 300;

    /// <summary>The Redis keys' prefix: gateways that share it share their counters (two platforms on one Redis should not).</summary>
    public string KeyPrefix { get; set; } = "gateway:ratelimit";

    /// <summary>Per client address on login, refresh, registration and the token endpoint (guessing is slow work).</summary>
    public int AuthPerAddressPerMinute { get; set; } = 30;
}
