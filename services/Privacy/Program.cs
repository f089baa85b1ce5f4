using Platform.Privacy.Relays;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "privacy");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.Services.AddSingleton<RelayStore>();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<RelayDirectoryService>();

app.Run();

public partial class Program;
