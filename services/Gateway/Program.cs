using Platform.Gateway.Health;
using Platform.Gateway.Identity;
using Platform.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddJsonErrors();
builder.AddIdentity();
builder.AddServiceRoutes();
builder.AddServiceHealthAggregation();

var app = builder.Build();

app.UseJsonErrors();
app.UseApiTokenExchange();
app.MapDefaultEndpoints();
app.MapIdentity();
app.MapReverseProxy();

app.Run();

public partial class Program;
