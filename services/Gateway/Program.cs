using Platform.Gateway.Door;
using Platform.Gateway.Health;
using Platform.Gateway.Identity;
using Platform.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddJsonErrors();
builder.AddGatewayCors();
builder.AddIdentity();
builder.AddServiceRoutes();
builder.AddServiceHealthAggregation();

var app = builder.Build();

app.UseJsonErrors();
app.UseCors();
app.UseApiTokenExchange();
app.MapDefaultEndpoints();
app.MapIdentity();
app.MapReverseProxy();

app.Run();

public partial class Program;
