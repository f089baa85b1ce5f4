using System.Net;
using System.Text.Json;

namespace Platform.Gateway.Tests;

/// <summary>/openapi.json and /docs: open to anyone, describing the gateway's own endpoints, every service route it forwards (from the protos) and the sockets.</summary>
public sealed class ApiDocsTests
{
    [Fact]
    public async Task The_document_describes_service_routes_from_the_protos_with_roles_comments_and_proto3_json_types()
    {
        await using var gateway = await GatewayHost.StartAsync();
        using var response = await gateway.Anonymous().GetAsync("/openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.StartsWith("3.1", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        var listNodes = paths.GetProperty("/api/compute/nodes").GetProperty("get");
        Assert.Equal("viewer", listNodes.GetProperty("x-platform-role").GetString());
        Assert.Equal("Compute", listNodes.GetProperty("tags")[0].GetString());
        var unregister = paths.GetProperty("/api/idle-compute/devices/{device_id}").GetProperty("delete");
        Assert.Equal("agent-or-operator", unregister.GetProperty("x-platform-role").GetString());
        Assert.Contains("Forgets the device", unregister.GetProperty("description").GetString()); // the proto's comment
        Assert.Equal("path", unregister.GetProperty("parameters")[0].GetProperty("in").GetString());
        var range = paths.GetProperty("/api/telemetry/query_range").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("stepMs", range);

        var node = document.GetProperty("components").GetProperty("schemas").GetProperty("platform.compute.v1.Node").GetProperty("properties");
        Assert.True(node.TryGetProperty("nodeId", out _));
        var memory = document.GetProperty("components").GetProperty("schemas").GetProperty("platform.compute.v1.NodeCapacity").GetProperty("properties").GetProperty("memoryBytes");
        Assert.Equal(("string", "int64"), (memory.GetProperty("type").GetString(), memory.GetProperty("format").GetString()));

        // The gateway's own endpoints and the sockets.
        Assert.True(paths.GetProperty("/api/auth/login").TryGetProperty("post", out var login));
        Assert.False(login.TryGetProperty("security", out _));
        Assert.Equal("viewer", paths.GetProperty("/api/dashboard/stats").GetProperty("get").GetProperty("x-platform-role").GetString());
        Assert.True(paths.TryGetProperty("/ws/realtime", out _));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
    }

    [Fact]
    public async Task The_interactive_reference_is_served_without_the_internet()
    {
        await using var gateway = await GatewayHost.StartAsync();
        using var http = gateway.Anonymous();
        using var page = await http.GetAsync("/docs");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.DoesNotContain("cdn.jsdelivr.net", html);
        // What a browser then loads, resolved against the page's address: Scalar's script, from the gateway itself.
        var at = page.RequestMessage!.RequestUri!;
        using var script = await http.GetAsync(new Uri(at, "scalar.js"));
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000);
        // Its glue resolves the document against the site's root: /openapi.json.
        Assert.Contains("\"url\":\"openapi.json\"", html);
    }
}
