using Platform.Gateway.Health;
using Platform.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddServiceRoutes();
builder.AddServiceHealthAggregation();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapReverseProxy();

app.Run();

public partial class Program;
