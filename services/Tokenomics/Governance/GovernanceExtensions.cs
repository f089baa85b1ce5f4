using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Governance;

public static class GovernanceExtensions
{
    public static IHostApplicationBuilder AddGovernance(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformGrpcClient<Scheduler.V1.Placements.PlacementsClient>("scheduler");
        builder.Services.AddSingleton<ProposalStore>();
        builder.Services.AddSingleton<VotingPowers>();
        builder.Services.AddSingleton<ProposalExecution>();
        return builder;
    }
}
