using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Telemetry.Agents;
using Platform.Telemetry.Alerts;
using Platform.Telemetry.Dashboard;
using Platform.Telemetry.Ingestion;
using Platform.Telemetry.Monitoring;
using Platform.Telemetry.Queries;
using Platform.Telemetry.Scraping;
using Platform.Telemetry.Storage;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "telemetry");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddSeriesStorage();
builder.AddIngestion();
builder.AddMetricQueries();
builder.AddScraping();
builder.AddAgentRegistry();
builder.AddAlerting();
builder.AddDashboard();

var app = builder.Build();

app.MapDefaultEndpoints();
app.UseWebSockets();
app.MapGrpcService<MetricIngestionService>();
app.MapRemoteWrite();
app.MapOtlpMetrics();
app.MapGrpcService<MetricQueryService>();
app.MapGrpcService<AgentRegistryService>();
app.MapAgentWebSocket();
app.MapGrpcService<AlertingService>();
app.MapGrpcService<DashboardService>();
app.MapGrpcService<MonitoringViewsService>();

app.Run();

public partial class Program;
