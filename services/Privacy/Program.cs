using Platform.Privacy;
using Platform.Privacy.Deployment;
using Platform.Privacy.Relays;
using Platform.Privacy.Vpn;
using Platform.Privacy.Entry;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "privacy");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.Services.Configure<PrivacyOptions>(builder.Configuration.GetSection("Privacy"));

// The directory: relays, their descriptors, the authority's key and the consensus it signs.
builder.Services.AddSingleton<RelayStore>();
builder.Services.AddSingleton<ConsensusStore>();
builder.Services.AddSingleton<DirectoryAuthority>();
builder.Services.AddSingleton<ConsensusJob>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<ConsensusJob>());

// Deployment: which nodes run relays (from Compute), and what the relays measured (from Telemetry).
builder.AddPlatformGrpcClient<Platform.Compute.V1.Compute.ComputeClient>("compute");
builder.AddPlatformGrpcClient<Platform.Telemetry.V1.MetricQueries.MetricQueriesClient>("telemetry");
builder.Services.AddSingleton<RelayDeployment>();
builder.Services.AddSingleton<RelayMeasurements>();

// The entry: this service's onion client and SOCKS5 listener.
builder.Services.AddSingleton<ConsensusSource>();
builder.Services.AddSingleton<OnionEntry>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<OnionEntry>());

// The VPN coordinator: WireGuard peers, addresses, keys (sealed at rest) and their scheduled rotation.
builder.Services.AddSingleton<KeySealer>();
builder.Services.AddSingleton<VpnStore>();
builder.Services.AddSingleton<VpnCoordinator>();
builder.Services.AddHostedService<VpnMaintenanceJob>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<PrivacyService>();
app.MapGrpcService<RelayDirectoryService>();
app.MapGrpcService<VpnService>();

app.Run();

public partial class Program;
