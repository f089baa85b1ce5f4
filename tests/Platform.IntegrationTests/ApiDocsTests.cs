using System.Net;
using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>
/// /openapi.json against what really runs: every route the services serve is in it, and every route in it answers
/// through the gateway — with the service's own answer (possibly "not found" for an id nobody has), never the bare 404
/// of a path nothing serves.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ApiDocsTests(PlatformFixture fixture)
{
    [Fact]
    public async Task Every_served_route_is_documented_and_every_documented_route_answers()
    {
        var platform = fixture.Platform;
        using var anonymous = platform.CreateAnonymousHttpClient();
        var document = JsonDocument.Parse(await anonymous.GetStringAsync("/openapi.json")).RootElement;
        var documented = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => (Method: operation.Name.ToUpperInvariant(), Path: path.Name)))
            .ToHashSet();

        var served = RouteTable.FromServices();
        Assert.Empty(served.Where(r => !documented.Contains((r.Method, r.Path))).Select(r => r.ToString()));

        // A token of its own: the sweep includes POST /api/auth/logout.
        var admin = (await RouteTableTests.TokensForAsync(platform))["admin"].Token;
        using var missing = await RouteTableTests.SendForResponseAsync(anonymous, "GET", $"/api/no-such-route-{Guid.NewGuid():N}", admin);
        Assert.Equal((HttpStatusCode.NotFound, ""), (missing.StatusCode, await missing.Content.ReadAsStringAsync()));

        var unanswered = new List<string>();
        foreach (var (method, path) in documented.Where(d => !d.Path.StartsWith("/ws/", StringComparison.Ordinal) && !d.Path.EndsWith("/ws", StringComparison.Ordinal)))
        {
            var concrete = RouteTableTests.Fill(path, p => p == "{username}" ? $"nobody-{Guid.NewGuid():N}"[..20] : Guid.NewGuid().ToString());
            using var response = await RouteTableTests.SendForResponseAsync(anonymous, method, concrete, admin);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.NotFound && !body.Contains("\"message\"", StringComparison.Ordinal))
                unanswered.Add($"{method} {path}: a bare 404");
            if (response.StatusCode == HttpStatusCode.MethodNotAllowed)
                unanswered.Add($"{method} {path}: 405");
        }
        Assert.Empty(unanswered);
    }
}
