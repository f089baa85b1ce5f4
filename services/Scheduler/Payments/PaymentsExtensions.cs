using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Payments;

public static class PaymentsExtensions
{
    public static IHostApplicationBuilder AddPayments(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PaymentOptions>(builder.Configuration.GetSection("Scheduler:Payments"));
        builder.AddPlatformGrpcClient<Tokenomics.V1.Tokenomics.TokenomicsClient>("tokenomics");
        builder.AddPlatformGrpcClient<Tokenomics.V1.Staking.StakingClient>("tokenomics");
        builder.Services.AddSingleton<JobPayments>();
        builder.Services.AddSingleton<SlaBreaches>();
        return builder;
    }
}
