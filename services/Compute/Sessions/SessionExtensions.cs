namespace Platform.Compute.Sessions;

public static class SessionExtensions
{
    public static IHostApplicationBuilder AddSessions(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<SessionOptions>(builder.Configuration.GetSection("Compute:Sessions"));
        builder.Services.AddSingleton<SessionStore>();
        return builder;
    }
}
