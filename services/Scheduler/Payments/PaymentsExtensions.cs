using Platform.ServiceDefaults.Grpc;

namespace Platform.Scheduler.Payments;

public static class PaymentsExtensions
{
    public static IHostApplicationBuilder AddPayments(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<PaymentOptions>(builder.Configuration.GetSection("Scheduler:Payments"));
        builder.AddPlatformGrpcClient<Tokenomics.V1.Tokenomics.TokenomicsClient>("tokenomics");
        builder.Services.AddSingleton<JobPayments>();
        return builder;
    }
}
