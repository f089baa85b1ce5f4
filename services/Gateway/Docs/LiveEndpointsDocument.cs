using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.Gateway.Docs;

/// <summary>
/// The WebSocket endpoints, which OpenAPI cannot describe as such: each is listed as the GET that upgrades, with what
/// it sends. The token goes in <c>Authorization</c>, or as <c>access_token</c> on the query for browsers.
/// </summary>
public sealed class LiveEndpointsDocument : IOpenApiDocumentTransformer
{
    static readonly (string Path, string Summary, string Description)[] Sockets =
    [
        ("/ws/realtime", "Live events by topic", "Send {\"type\":\"subscribe\",\"topics\":[...],\"after\":{topic: id}}; receive {\"type\":\"event\",\"topic\",\"id\",\"event\"}, pings every 15 s, {\"type\":\"resync\",\"topic\"} when a gap is older than what is kept, and {\"type\":\"dropped\",\"count\"} when a slow reader lost messages. Topics: metrics, alerts, nodes, workloads, jobs, ledger, governance, circuits; audit for admins."),
        ("/ws/metrics", "Seed 003's platform summary, every second", "The same object as GET /api/dashboard/stats, pushed every second."),
        ("/ws/monitoring", "Seed 002's system and VM metrics", "{\"type\":\"metrics\",\"system\":[{node, metrics: {cpu_percent, memory_used_percent, memory_available_bytes, network_receive_bytes_per_second, network_transmit_bytes_per_second, disk_read_bytes_per_second, disk_write_bytes_per_second}, timestampMs}],\"vms\":[{workloadId, workload, node, cpuCores, memoryRssBytes, ioReadBytesPerSecond, ioWriteBytesPerSecond, processes}]}, sent when it changed (looked at every 2 s)."),
        ("/api/system/ws", "Seed 004's node stats, every two seconds", "{\"type\":\"stats\",\"timestamp\",\"nodes\":[{nodeId, name, status, cpuCores, cpuPercent, memoryTotalBytes, memoryUsedBytes, memoryPercent, diskTotalBytes, measured, measuredAtMs}]}."),
        ("/api/services/ws", "Seed 004's service status", "{\"type\":\"services\",\"services\":[{workloadId, name, nodeId, driver, status, powerState, taskState, pid, restarts, exitCode, message, updatedAtMs}]}, sent when a workload changed."),
    ];

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Paths ??= [];
        foreach (var (path, summary, description) in Sockets)
        {
            var item = new OpenApiPathItem();
            item.AddOperation(HttpMethod.Get, new OpenApiOperation
            {
                OperationId = $"Live{string.Concat(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]))}",
                Summary = summary,
                Description = $"A WebSocket (send an upgrade request). {description}\n\nRequires the **viewer** role (or operator, admin): a user's token, or an API token a user made; agents' tokens are refused. At most Gateway:Realtime:MaxConnectionsPerUser (32 by default) live connections per user.",
                Tags = new HashSet<OpenApiTagReference> { new("Live", document) },
                Responses = new OpenApiResponses { ["101"] = new OpenApiResponse { Description = "Switching protocols: the socket is open" } },
                Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ServiceRoutesDocument.BearerScheme, document)] = [] }],
                Extensions = new Dictionary<string, IOpenApiExtension> { ["x-platform-role"] = new JsonNodeExtension(JsonValue.Create("viewer")) },
            });
            document.Paths[path] = item;
        }
        (document.Tags ??= new HashSet<OpenApiTag>()).Add(new OpenApiTag { Name = "Live", Description = "WebSockets: live events and the seeds' push views" });
        return Task.CompletedTask;
    }
}
