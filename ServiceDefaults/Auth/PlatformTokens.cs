namespace Platform.ServiceDefaults.Auth;

/// <summary>What every platform token carries: the gateway issues them (ES256); everyone else only validates them.</summary>
public static class PlatformTokens
{
    public const string Issuer = "platform";
    public const string Audience = "platform";
    public const string RoleClaim = "role";
}
