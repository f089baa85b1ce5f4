using System.Text.Json;

namespace Platform.IntegrationTests;

/// <summary>The platform monitors itself: Telemetry scrapes every service's and agent's /metrics.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SelfMonitoringTests(PlatformFixture fixture)
{
    static readonly string[] Jobs = ["compute", "telemetry", "scheduler", "tokenomics", "privacy", "gateway", "node-0", "node-1"];

    [Fact]
    public async Task Every_service_and_agent_is_up_and_its_request_metrics_are_queryable()
    {
        using var http = fixture.Platform.CreateHttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        string missing;
        do
        {
            missing = await WhatIsMissingAsync(http);
            if (missing == "") return;
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail(missing);
    }

    static async Task<string> WhatIsMissingAsync(HttpClient http)
    {
        using var up = JsonDocument.Parse(await http.GetStringAsync("/api/telemetry/metrics/up/samples"));
        var lastUp = up.RootElement.GetProperty("series").EnumerateArray().ToDictionary(
            s => s.GetProperty("labels").GetProperty("job").GetString()!,
            s => s.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble());
        var down = Jobs.Where(job => lastUp.GetValueOrDefault(job) != 1).ToList();
        if (down.Count > 0) return $"not up: {string.Join(", ", down)}";

        using var requests = JsonDocument.Parse(await http.GetStringAsync("/api/telemetry/metrics/http_server_request_duration_seconds_count/samples"));
        var jobs = requests.RootElement.GetProperty("series").EnumerateArray().Select(s => s.GetProperty("labels").GetProperty("job").GetString()).ToHashSet();
        return jobs.Contains("compute") ? "" : "no request metrics from compute";
    }
}

/// <summary>The dashboard asks Compute for nodes with Telemetry's own service token.</summary>
[Collection(PlatformCollection.Name)]
public sealed class DashboardThroughGatewayTests(PlatformFixture fixture)
{
    [Fact]
    public async Task The_overview_counts_both_nodes_Ready()
    {
        using var http = fixture.Platform.CreateHttpClient();

        using var overview = JsonDocument.Parse(await http.GetStringAsync("/api/v1/dashboard/overview"));

        Assert.Equal(2, overview.RootElement.GetProperty("nodes").GetProperty("ready").GetInt32());
    }
}
