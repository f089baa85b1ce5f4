namespace Platform.Telemetry.Agents;

public static class AgentRegistryExtensions
{
    public static IHostApplicationBuilder AddAgentRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AgentStore>();
        builder.Services.AddSingleton<ConnectedAgents>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConnectedAgents>());
        return builder;
    }
}
