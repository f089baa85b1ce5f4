using Platform.Tokenomics.Rewards;

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
        return builder;
    }
}
