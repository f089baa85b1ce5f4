using Platform.Scheduler.Dispatch;
using Platform.Scheduler.Jobs;
using Platform.Scheduler.Placement;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "scheduler");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddJobQueue();          // Jobs/: submit, list, update, cancel, priorities, the queue's views
builder.AddPlacement();         // Placement/ and Dispatch/: NSGA-II over the cluster from Compute, the loop that dispatches and follows

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<JobQueueService>();
app.MapGrpcService<PlacementsService>();

app.Run();

public partial class Program;
