using Platform.NodeAgent.Identity;
using Platform.NodeAgent.Metrics;
using Platform.NodeAgent.Registration;
using Platform.NodeAgent.Workloads;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNodeIdentity();
builder.AddNodeRegistration();
builder.AddMetricShipping();
builder.AddWorkloadSupervision();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();

public partial class Program;
