using Platform.Scheduler.Dispatch;
using Platform.Scheduler.Payments;
using Platform.Scheduler.Placement;
using Platform.Scheduler.Queue;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "scheduler");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddJobQueue();          // Queue/ over Jobs/ and Priority/: submit, list, update, cancel, priorities, blockers, the queue's views
builder.AddPlacement();         // Placement/ over Optimization/: the cluster from Compute, NSGA-II placement, decisions, weights
builder.AddPayments();          // Payments/: a placement's price reserved from its owner, posted for what ran or voided (Tokenomics)
builder.AddDispatch();          // Dispatch/: the loop that solves, dispatches to Compute and follows every placed job

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<JobQueueService>();
app.MapGrpcService<PlacementsService>();

app.Run();

public partial class Program;
