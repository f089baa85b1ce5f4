using Platform.Gateway.Audit;
using Platform.Gateway.Docs;
using Platform.Gateway.Door;
using Platform.Gateway.Health;
using Platform.Gateway.Identity;
using Platform.Gateway.Realtime;
using Platform.Gateway.Routing;
using Platform.Gateway.Security;
using Platform.Gateway.Views;
using Platform.ServiceDefaults.Cache;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddJsonErrors();
builder.AddPlatformCache();
builder.AddGatewayCors();
builder.AddGatewayRateLimits();
builder.AddIdentity();
builder.AddAudit();
builder.AddRealtime();
builder.AddSeedViews();
builder.AddApiDocs();
builder.AddSecurityView();
builder.AddServiceRoutes();
builder.AddServiceHealthAggregation();

var app = builder.Build();

app.UseRequestIds();
app.UseWebSockets();  // before authentication: an upgrade may carry its token as access_token
app.UseJsonErrors();
app.UseCors();
app.UseBodyLimits();
app.UseApiTokenExchange();
app.MapDefaultEndpoints(afterAuthentication: door =>
{
    door.UseRateLimiter();     // a caller's limit follows its token; a refused flood writes nothing
    door.UseAuditRecording();  // before authorization: refused attempts are recorded with whoever presented them
});
app.MapDiscovery();
app.MapAuthEndpoints();
app.MapUserEndpoints();
app.MapClientCredentials();
app.MapApiTokens();
app.MapAudit();
app.MapRealtime();
app.MapSeedViews();
app.MapSecurityView();
app.MapApiDocs();
app.MapReverseProxy();

app.Run();

public partial class Program;
