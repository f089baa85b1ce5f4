using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Rewards;

public static class RewardsExtensions
{
    public static IHostApplicationBuilder AddRewards(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<RewardOptions>(builder.Configuration.GetSection("Tokenomics:Rewards"));
        builder.AddPlatformGrpcClient<Telemetry.V1.MetricQueries.MetricQueriesClient>("telemetry");
        builder.Services.AddSingleton<RewardDistribution>();
        builder.Services.AddSingleton<ContributedWork>();
        builder.Services.AddHostedService<EpochCloser>();
        return builder;
    }
}
