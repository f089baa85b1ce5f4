using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Gateway.Realtime;

namespace Platform.Gateway.Views;

/// <summary>
/// Seed 002's <c>/api/info</c>: what this platform is and can do right now — its version, where the API reference is,
/// each service's health as the gateway's own health checks see it, the live endpoints and their topics, and the
/// workload drivers the nodes' agents fingerprinted (how many nodes can run each, and why the others cannot).
/// </summary>
public static class ApiInfo
{
    public static async Task<JsonObject> ComposeAsync(ServiceReads reads, HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains("services"), ct);
        var drivers = await ServiceReads.SectionAsync(reads.NodesAsync, Drivers, ct);
        var services = new JsonObject();
        foreach (var (name, entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
            services[name] = entry.Status == HealthStatus.Healthy ? "healthy" : $"{entry.Status.ToString().ToLowerInvariant()}: {entry.Description}";
        return new JsonObject
        {
            ["name"] = "fog compute platform",
            ["version"] = typeof(ApiInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
            ["apiReference"] = "/openapi.json",
            ["docs"] = "/docs",
            ["services"] = services,
            ["realtime"] = new JsonObject
            {
                ["path"] = "/ws/realtime",
                ["topics"] = new JsonArray([.. RealtimeTopics.RolesFor.Keys.Order(StringComparer.Ordinal).Select(t => (JsonNode)t)]),
            },
            ["liveViews"] = new JsonArray("/ws/metrics", "/ws/monitoring", "/api/system/ws", "/api/services/ws"),
            ["drivers"] = drivers,
        };
    }

    /// <summary>Per driver: the nodes where it is available, and each other node's reason.</summary>
    static JsonNode Drivers(Compute.V1.ListNodesResponse response)
    {
        var drivers = new JsonObject();
        foreach (var group in response.Nodes.SelectMany(node => node.Drivers.Select(driver => (Node: node.Name, Driver: driver)))
                     .GroupBy(d => d.Driver.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var unavailable = new JsonObject();
            foreach (var (node, driver) in group.Where(d => !d.Driver.Available)) unavailable[node] = driver.Reason;
            drivers[group.Key] = new JsonObject { ["availableOn"] = group.Count(d => d.Driver.Available), ["unavailable"] = unavailable };
        }
        return drivers;
    }
}
