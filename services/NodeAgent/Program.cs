using Platform.NodeAgent.Drivers;
using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Inspection;
using Platform.NodeAgent.Metrics;
using Platform.NodeAgent.Migration;
using Platform.NodeAgent.Registration;
using Platform.NodeAgent.Relay;
using Platform.NodeAgent.Workloads;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNodeIdentity();
builder.AddWorkloadDrivers();
builder.AddNodeRegistration();
builder.AddMetricShipping();
builder.AddWorkloadSupervision();
builder.AddNodeInspection();
builder.AddMigration();
builder.AddRelayRole();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<NodeAgentApiService>();
app.MapGrpcService<MigrationReceiverService>();

app.Run();

public partial class Program;
