using Platform.AppHost.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var db = builder.AddPostgres("postgres").AddDatabase("platformdb");
var cache = builder.AddGarnet("cache");

var compute = builder.AddProject<Projects.Compute>("compute")
    .WithPlatformData(db.Schema("compute"), cache);
var telemetry = builder.AddProject<Projects.Telemetry>("telemetry")
    .WithPlatformData(db.Schema("telemetry"), cache);
var scheduler = builder.AddProject<Projects.Scheduler>("scheduler")
    .WithPlatformData(db.Schema("scheduler"), cache)
    .WithReference(compute);
// Tokenomics pays reward epochs from the work Telemetry measured, and carries out proposals in the Scheduler.
var tokenomics = builder.AddProject<Projects.Tokenomics>("tokenomics")
    .WithPlatformData(db.Schema("tokenomics"), cache)
    .WithReference(telemetry)
    .WithReference(scheduler);
// Privacy deploys relays on Compute's nodes, reads what they measured from Telemetry, and runs the SOCKS5 entry.
var socksPort = builder.Options.SocksPort > 0 ? builder.Options.SocksPort : Ports.Free();
var privacy = builder.AddProject<Projects.Privacy>("privacy")
    .WithPlatformData(db.Schema("privacy"), cache)
    .WithReference(compute)
    .WithReference(telemetry)
    .WithEnvironment("Privacy__SocksListen", $"127.0.0.1:{socksPort}")
    .WithEnvironment("Privacy__AuthorityKeyFile", Path.Combine(builder.Options.DataDirectory, "privacy", "authority.key"))
    .WithAnnouncement(() => $"socks5: 127.0.0.1:{socksPort}   (the onion network's entry: curl --socks5-hostname 127.0.0.1:{socksPort} URL)");

var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithHttpPort(builder.Options.GatewayPort)
    .WithHttpsEndpoint(builder.Options.GatewayHttpsPort, () => GatewayCertificate.Ensure(builder.Options.DataDirectory))
    .WithPlatformData(db.Schema("identity"), cache)
    .WithReference(compute).WaitFor(compute)
    .WithReference(telemetry).WaitFor(telemetry)
    .WithReference(scheduler).WaitFor(scheduler)
    .WithReference(tokenomics).WaitFor(tokenomics)
    .WithReference(privacy).WaitFor(privacy);

// Agents exchange their node-bound credential at the gateway before they register; they ask Privacy for a relay role.
var nodes = builder.AddNodeAgents<Projects.NodeAgent>("node", count: builder.Options.NodeCount)
    .WithReference(compute).WaitFor(compute)
    .WithReference(telemetry).WaitFor(telemetry)
    .WithReference(privacy).WaitFor(privacy)
    .WaitFor(gateway);

// The platform monitors itself: Telemetry scrapes the /metrics of each of these.
telemetry.WithScrapeTargets([telemetry, compute, scheduler, tokenomics, privacy, gateway, .. nodes.Agents]);
// Compute reads the nodes' measured use from Telemetry for its resources summary (no WaitFor: Telemetry need not be up).
compute.WithReference(telemetry);
// The Scheduler reserves and settles jobs' prices in the ledger when Scheduler:Payments:Enabled is set.
scheduler.WithReference(tokenomics);

// The control panel: the browser loads it from here and then talks to the gateway alone, which lets its origin in.
if (builder.AddControlPanel("web") is { } web)
{
    web.WithEnvironment("services__gateway__http__0", () => gateway.HttpUrl);
    gateway.WithEnvironment("Gateway__Cors__Origins", web.Origins);
}

// The gateway issues every token: users log in there, services and agents exchange their client credentials there.
builder.WithIssuer(gateway);

return await builder.Build().RunAsync();

// Internal: test projects reference the AppHost next to a service whose Program they host.
internal partial class Program;
