using Platform.Scheduler.Jobs;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "scheduler");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.Services.AddSingleton<JobStore>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<JobQueueService>();

app.Run();

public partial class Program;
