using Platform.ServiceDefaults.Data;

namespace Platform.Gateway.Audit;

/// <summary>The audit log: recording, signed heads at intervals (<c>Gateway:Audit:SignInterval</c>), and the admins' routes.</summary>
public static class AuditExtensions
{
    public static IHostApplicationBuilder AddAudit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddSingleton<AuditHeads>();
        builder.Services.AddSingleton<AuditVerification>();
        builder.Services.AddHostedService<AuditHeadSigner>();
        return builder;
    }
}

/// <summary>Signs the chain's head every interval (five minutes by default) when it has grown; replicas may both sign the same head.</summary>
public sealed class AuditHeadSigner(AuditHeads heads, IConfiguration configuration, ILogger<AuditHeadSigner> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(configuration.GetValue("Gateway:Audit:SignInterval", TimeSpan.FromMinutes(5)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await heads.SignAsync(stoppingToken) is { } seq) logger.LogDebug("Signed the audit chain's head at row {Seq}", seq);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
            {
                logger.LogWarning(ex, "Could not sign the audit chain's head; trying again next interval");
            }
        }
    }
}
