using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.IntegrationTests;

/// <summary>
/// Every REST route of every service, derived from the protos and the services' declared policies, tried through the
/// gateway: without a token it is 401, with a role below its policy 403, with a role it admits neither. A route
/// added without a policy fails here.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class RouteTableTests(PlatformFixture fixture)
{
    /// <summary>For each policy: a role it refuses, and a role it admits.</summary>
    static readonly Dictionary<string, (string Below, string Admitted)> Roles = new()
    {
        ["viewer"] = ("agent", "viewer"), ["operator"] = ("viewer", "operator"), ["admin"] = ("operator", "admin"),
        ["agent"] = ("viewer", "service"), ["service"] = ("agent", "service"),
        ["agent-or-operator"] = ("viewer", "operator"),
        ["admin-or-service"] = ("operator", "admin"),
    };

    [Fact]
    public async Task Every_route_refuses_anonymous_callers_and_roles_below_its_policy_and_admits_its_role()
    {
        var routes = RouteTable.FromServices();
        var exposed = GatewayPaths();
        Assert.True(routes.Count > 50, $"only {routes.Count} routes found");
        Assert.Empty(routes.Where(r => r.Policy is null || !Roles.ContainsKey(r.Policy)).Select(r => r.ToString()));
        // The role the proto declares (what /openapi.json shows) is the policy the service enforces.
        Assert.Empty(routes.Where(r => r.DeclaredRole != r.Policy).Select(r => $"{r}: the proto says {(r.DeclaredRole == "" ? "nothing" : r.DeclaredRole)}"));

        var tokens = await TokensAsync();
        using var http = fixture.Platform.CreateAnonymousHttpClient();
        var failures = new List<string>();
        var tried = routes.Where(r => exposed.Any(p => p.IsMatch(r.Path))).ToList();
        Assert.True(tried.Count > 50, $"only {tried.Count} of {routes.Count} routes are behind the gateway");
        foreach (var route in tried)
        {
            // A user's own resource ({user}) is asked for by that user; any other parameter is an id nobody has.
            string PathFor(string role) => Parameter().Replace(route.Path, p => p.Value == "{user}" ? tokens[role].Subject : Guid.NewGuid().ToString());
            var (below, admitted) = Roles[route.Policy!];
            var anonymous = await SendAsync(http, route.Method, PathFor(admitted), null);
            var refused = await SendAsync(http, route.Method, PathFor(below), tokens[below].Token);
            var allowed = await SendAsync(http, route.Method, PathFor(admitted), tokens[admitted].Token);
            if (anonymous != HttpStatusCode.Unauthorized) failures.Add($"{route}: anonymous got {(int)anonymous}");
            if (refused != HttpStatusCode.Forbidden) failures.Add($"{route}: {below} got {(int)refused}");
            if (allowed is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) failures.Add($"{route}: {admitted} got {(int)allowed}");
        }
        Assert.Empty(failures);
    }

    static async Task<HttpStatusCode> SendAsync(HttpClient http, string method, string path, string? token)
    {
        using var response = await SendForResponseAsync(http, method, path, token);
        return response.StatusCode;
    }

    /// <summary>One request with an empty JSON object as the body where the method has one; headers only (a streaming route answers at once and then keeps the stream open).</summary>
    public static async Task<HttpResponseMessage> SendForResponseAsync(HttpClient http, string method, string path, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT" or "PATCH") request.Content = JsonContent.Create(new { });
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
    }

    /// <summary>A route template's path with each parameter filled in by <paramref name="value"/>.</summary>
    public static string Fill(string template, Func<string, string> value) => Parameter().Replace(template, p => value(p.Value));

    /// <summary>A token of each role, with its subject: users made by the admin, the test's outside agent, and a service's own credential.</summary>
    Task<Dictionary<string, (string Token, string Subject)>> TokensAsync() => TokensForAsync(fixture.Platform);

    /// <summary>The role a policy admits (for a sweep that must get past authorization).</summary>
    public static string AdmittedRole(string policy) => Roles[policy].Admitted;

    public static async Task<Dictionary<string, (string Token, string Subject)>> TokensForAsync(PlatformProcess platform)
    {
        using var admin = platform.CreateHttpClient();
        using var anonymous = platform.CreateAnonymousHttpClient();
        var tokens = new Dictionary<string, (string, string)>();
        foreach (var role in new[] { "viewer", "operator", "admin" })
        {
            var username = $"routes-{role}-{Guid.NewGuid():N}"[..30];
            (await admin.PostAsJsonAsync("/api/auth/users", new { username, password = "a long enough password", role })).EnsureSuccessStatusCode();
            using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { username, password = "a long enough password" });
            tokens[role] = (JsonDocument.Parse(await login.Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!, username);
        }
        tokens["agent"] = (await platform.AgentTokenAsync("edge-gw"), "edge-gw");
        tokens["service"] = (await platform.ServiceTokenAsync("scheduler"), "scheduler");
        return tokens;
    }

    /// <summary>The gateway's proxied paths, from its own configuration.</summary>
    public static List<Regex> GatewayPaths()
    {
        var settings = Path.Combine(Path.GetDirectoryName(Projects.AppHost.ProjectPath)!, "..", "services", "Gateway", "appsettings.json");
        using var json = JsonDocument.Parse(File.ReadAllText(settings));
        return [.. json.RootElement.GetProperty("ReverseProxy").GetProperty("Routes").EnumerateObject()
            .Select(route => route.Value.GetProperty("Match").GetProperty("Path").GetString()!)
            .Select(pattern => new Regex("^" + Regex.Escape(pattern).Replace(@"\{\*\*rest}", ".*") + "$"))];
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
