namespace Platform.Gateway.Identity;

/// <summary>The issuer's settings (<c>Gateway:Auth</c>).</summary>
public sealed class IdentityOptions
{
    /// <summary>Where the issuer's private signing keys live (PEM files, 0600); only the gateway reads it.</summary>
    public string KeyDirectory { get; set; } = "";

    /// <summary>A new signing key is made when the newest is older than this; older keys stay published while tokens they signed may live.</summary>
    public TimeSpan KeyRotation { get; set; } = TimeSpan.FromDays(30);

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);
    /// <summary>Client-credential tokens (services, NodeAgents): at most an hour, renewed by the client before expiry.</summary>
    public TimeSpan ClientTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Failed logins in a row an account may have before it must wait; the first wait, doubled at each further failure up to the longest.</summary>
    public int LoginFailuresBeforeWait { get; set; } = 2;
    public TimeSpan LoginFirstWait { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan LoginLongestWait { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The <c>admin</c> user's password, set at every start (the AppHost's <c>Platform__AdminPassword</c>).</summary>
    public string? AdminPassword { get; set; }

    /// <summary>A file holding the password the <c>admin</c> user is created with when it does not exist yet.</summary>
    public string? InitialAdminPasswordFile { get; set; }

    /// <summary>Seed 002's <c>POST /auth/register</c>: off unless enabled; it creates viewers.</summary>
    public bool SelfRegistration { get; set; }

    /// <summary>
    /// Services and NodeAgents that may exchange a client credential for a token: the SHA-256 of each secret (hex) and
    /// the role its tokens carry; an agent's tokens are bound to its node (their subject is the client id).
    /// </summary>
    public Dictionary<string, ClientRegistration> Clients { get; set; } = [];
}

public sealed class ClientRegistration
{
    public string SecretSha256 { get; set; } = "";
    public string Role { get; set; } = "";
}
