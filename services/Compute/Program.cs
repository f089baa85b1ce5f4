using Platform.Compute.Assignments;
using Platform.Compute.Benchmarks;
using Platform.Compute.Devices;
using Platform.Compute.Evacuation;
using Platform.Compute.Migration;
using Platform.Compute.Nodes;
using Platform.Compute.Sessions;
using Platform.Compute.Workloads;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "compute");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddNodeRegistry();
builder.AddWorkloads();
builder.AddAssignments();
builder.AddMigration();
builder.AddEvacuation();
builder.AddSessions();
builder.AddDevices();
builder.AddBenchmarks();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<NodeRegistryService>();
app.MapGrpcService<NodeInsightService>();
app.MapGrpcService<WorkloadService>();
app.MapGrpcService<AssignmentService>();
app.MapGrpcService<MigrationService>();
app.MapGrpcService<SessionService>();
app.MapGrpcService<DeviceService>();
app.MapGrpcService<BenchmarkService>();

app.Run();

public partial class Program;
