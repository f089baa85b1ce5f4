using System.Net;

namespace Platform.Gateway.Tests;

/// <summary>CORS for the configured origins only, and host names limited to the configured ones (no DNS rebinding).</summary>
public sealed class DoorTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync();

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    async Task<HttpResponseMessage> PreflightAsync(string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/auth/login");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");
        return await gateway.Anonymous().SendAsync(request);
    }

    [Fact]
    public async Task A_preflight_from_the_control_panel_is_allowed_and_from_elsewhere_is_not()
    {
        using var panel = await PreflightAsync("http://127.0.0.1:3000");
        using var stranger = await PreflightAsync("http://evil.example");

        Assert.Equal(HttpStatusCode.NoContent, panel.StatusCode);
        Assert.Equal("http://127.0.0.1:3000", panel.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.False(panel.Headers.Contains("Access-Control-Allow-Credentials"));
        Assert.False(stranger.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task A_request_naming_another_host_is_refused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Host = "rebound.evil.example";

        using var response = await gateway.Anonymous().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_body_over_its_routes_limit_is_413_before_anything_reads_it()
    {
        using var huge = await gateway.Anonymous().PostAsync("/api/auth/login",
            new StringContent($"{{\"username\": \"admin\", \"password\": \"{new string('x', 20_000)}\"}}", System.Text.Encoding.UTF8, "application/json"));
        using var fine = await gateway.Anonymous().PostAsync("/api/auth/login",
            new StringContent("{\"username\": \"admin\", \"password\": \"not it but small\"}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Contains("16 KiB", await huge.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, fine.StatusCode);
    }
}
