namespace Platform.ServiceDefaults.Auth;

/// <summary>What every platform token carries: the gateway issues them (ES256); everyone else only validates them.</summary>
public static class PlatformTokens
{
    public const string Issuer = "platform";
    public const string Audience = "platform";
    /// <summary>
    /// The audience of tokens sent to one NodeAgent: <c>node-agent:{node name}</c>. A NodeAgent runs on a machine the
    /// platform does not own: a token it receives must be worth nothing anywhere else — not at the services, not at
    /// another node — and the platform's own tokens nothing to it.
    /// </summary>
    public static string NodeAgentAudience(string nodeName) => $"node-agent:{nodeName}";

    public static bool IsNodeAgentAudience(string audience) =>
        audience.StartsWith("node-agent:", StringComparison.Ordinal) && audience.Length is > 11 and <= 140
        && audience[11..].All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.');
    public const string RoleClaim = "role";
}
