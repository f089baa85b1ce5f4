namespace Platform.Tokenomics.Staking;

public static class StakingExtensions
{
    public static IHostApplicationBuilder AddStaking(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StakingStore>();
        builder.Services.AddSingleton<Redelegations>();
        builder.Services.AddSingleton<Slashing>();
        builder.Services.AddSingleton<ValidatorStore>();
        builder.Services.AddHostedService<UnbondingCompletion>();
        builder.Services.AddSingleton<DowntimeWatch>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DowntimeWatch>());
        return builder;
    }
}
