using Platform.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var db = builder.AddPostgres("postgres").AddDatabase("platformdb");
var cache = builder.AddGarnet("cache");

var compute = builder.AddProject<Projects.Compute>("compute").WithReference(db).WithReference(cache).WaitFor(db).WaitFor(cache);
var telemetry = builder.AddProject<Projects.Telemetry>("telemetry").WithReference(db).WithReference(cache).WaitFor(db).WaitFor(cache);
var scheduler = builder.AddProject<Projects.Scheduler>("scheduler").WithReference(db).WithReference(cache).WithReference(compute).WaitFor(db).WaitFor(cache);
var tokenomics = builder.AddProject<Projects.Tokenomics>("tokenomics").WithReference(db).WithReference(cache).WaitFor(db).WaitFor(cache);
var privacy = builder.AddProject<Projects.Privacy>("privacy").WithReference(db).WithReference(cache).WithReference(compute).WaitFor(db).WaitFor(cache);

var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithHttpPort(builder.Options.GatewayPort)
    .WithHttpsEndpoint(builder.Options.GatewayHttpsPort, () => GatewayCertificate.Ensure(builder.Options.DataDirectory))
    .WithReference(db).WithReference(cache).WaitFor(db)
    .WithReference(compute).WithReference(telemetry).WithReference(scheduler).WithReference(tokenomics).WithReference(privacy)
    .WaitFor(compute).WaitFor(telemetry).WaitFor(scheduler).WaitFor(tokenomics).WaitFor(privacy);

// Agents exchange their node-bound credential at the gateway before they register.
var nodes = builder.AddNodeAgents<Projects.NodeAgent>("node", count: builder.Options.NodeCount)
    .WithReference(compute).WithReference(telemetry)
    .WaitFor(compute).WaitFor(telemetry).WaitFor(gateway);

// The platform monitors itself: Telemetry scrapes the /metrics of everything it holds a reference to.
telemetry.WithReference(telemetry).WithReference(compute).WithReference(scheduler).WithReference(tokenomics).WithReference(privacy).WithReference(gateway);
foreach (var node in nodes.Agents) telemetry.WithReference(node);
// Compute reads the nodes' measured use from Telemetry for its resources summary (no WaitFor: Telemetry need not be up).
compute.WithReference(telemetry);

// The gateway issues every token: users log in there, services and agents exchange their client credentials there.
builder.WithIssuer(gateway);

return await builder.Build().RunAsync();

// Internal: test projects reference the AppHost next to a service whose Program they host.
internal partial class Program;
