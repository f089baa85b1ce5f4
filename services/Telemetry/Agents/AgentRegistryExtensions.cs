namespace Platform.Telemetry.Agents;

public static class AgentRegistryExtensions
{
    public static IHostApplicationBuilder AddAgentRegistry(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AgentStore>();
        return builder;
    }
}
