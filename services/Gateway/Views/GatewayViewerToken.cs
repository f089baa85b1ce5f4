using Grpc.Core;
using Platform.Gateway.Identity;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Views;

/// <summary>
/// The gateway's own token for the views it composes from the services (the seeds' summaries): minted by the gateway
/// itself — it is the issuer — with the viewer role only, so a view can show nothing a viewer could not read, and
/// renewed when a fifth of its life is left.
/// </summary>
public sealed class GatewayViewerToken(AccessTokens tokens, TimeProvider clock)
{
    public const string Subject = "gateway-views";
    sealed record Held(string Token, DateTimeOffset RenewAt);
    Held? held;

    public Metadata Headers()
    {
        var now = clock.GetUtcNow();
        var current = Volatile.Read(ref held); // the feeds ask from several threads: one reference, never a torn pair
        if (current is null || now >= current.RenewAt)
        {
            var (token, lifetime) = tokens.ForClient(Subject, "viewer", PlatformTokens.Audience);
            Volatile.Write(ref held, current = new Held(token, now + lifetime * 0.8));
        }
        return new Metadata { { "Authorization", $"Bearer {current.Token}" } };
    }
}
