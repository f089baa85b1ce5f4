namespace Platform.ServiceDefaults.Auth;

/// <summary>What every platform token carries: the gateway issues them (ES256); everyone else only validates them.</summary>
public static class PlatformTokens
{
    public const string Issuer = "platform";
    public const string Audience = "platform";
    /// <summary>
    /// The audience of tokens sent to NodeAgents. A NodeAgent runs on a machine the platform does not own: a token it
    /// receives must be worth nothing anywhere else, and the platform's own tokens nothing to it.
    /// </summary>
    public const string NodeAgentAudience = "node-agent";
    public const string RoleClaim = "role";
}
