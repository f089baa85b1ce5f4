using Microsoft.AspNetCore.Authentication.JwtBearer;
using Platform.ServiceDefaults.Data;

namespace Platform.Gateway.Identity;

/// <summary>The gateway as the platform's issuer: users, sessions, client credentials, signing keys and their JWKS.</summary>
public static class IdentityExtensions
{
    public static IHostApplicationBuilder AddIdentity(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformDatabase<IdentityOptions>(schema: "identity");
        builder.Services.Configure<IdentityOptions>(builder.Configuration.GetSection("Gateway:Auth"));
        builder.Services.AddSingleton<SigningKeys>();
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<UserStore>();
        builder.Services.AddSingleton<RefreshTokens>();
        builder.Services.AddSingleton<LoginThrottle>();
        builder.Services.AddSingleton<ApiTokenStore>();
        builder.Services.AddHostedService<FirstAdmin>();
        // The issuer validates its own tokens with its own keys, without a round trip to its JWKS.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<SigningKeys>((options, keys) =>
            options.TokenValidationParameters.IssuerSigningKeyResolver = (_, _, _, _) => keys.ValidationKeys);
        return builder;
    }
}
