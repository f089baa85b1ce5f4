using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Platform.ServiceDefaults.Observability;

/// <summary>OpenTelemetry logs, metrics and traces for a service; OTLP export when an endpoint is configured.</summary>
public static class ObservabilityExtensions
{
    static readonly PathString[] UntracedPaths = ["/health", "/alive", "/metrics"];

    public static IHostApplicationBuilder AddPlatformObservability(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Npgsql")
                .AddMeter(PlatformMeters.Name)
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !UntracedPaths.Any(p => context.Request.Path.StartsWithSegments(p)))
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();

        return builder;
    }
}

/// <summary>The meter platform code records its own instruments on.</summary>
public static class PlatformMeters
{
    public const string Name = "Platform";
}
