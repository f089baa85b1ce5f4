namespace Platform.Tokenomics.Ledger;

public static class LedgerExtensions
{
    public static IHostApplicationBuilder AddLedger(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LedgerStore>();
        builder.Services.AddSingleton<TransferBatches>();
        builder.Services.AddSingleton<LedgerEvents>();
        builder.Services.AddHostedService<PendingTimeouts>();
        return builder;
    }
}
