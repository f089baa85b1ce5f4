namespace Platform.Tokenomics.Parameters;

public static class ParametersExtensions
{
    public static IHostApplicationBuilder AddParameters(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ParameterStore>();
        builder.Services.AddHostedService<GenesisParameters>();
        return builder;
    }
}

/// <summary>Stores the genesis value of each parameter not yet stored, before the service takes requests.</summary>
public sealed class GenesisParameters(ParameterStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.EnsureGenesisAsync(cancellationToken);
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
