using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>Telemetry scraping a real HTTP endpoint, and a dead one, into a real PostgreSQL.</summary>
public sealed class ScraperTests : IAsyncLifetime
{
    WebApplication exporter = null!;
    ServiceHost<Program> host = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        exporter = builder.Build();
        exporter.MapGet("/metrics", () => Results.Text("""
            # TYPE widgets_total counter
            widgets_total{colour="blue",job="inner"} 42
            widgets_temperature NaN
            """, "text/plain; version=0.0.4"));
        await exporter.StartAsync();

        host = await ServiceHost<Program>.StartAsync(new Dictionary<string, string>
        {
            ["Telemetry:Scrape:Interval"] = "00:00:00.200",
            ["Telemetry:Scrape:Targets:0:Job"] = "widgets",
            ["Telemetry:Scrape:Targets:0:Url"] = $"{exporter.Urls.First()}/metrics",
            ["Telemetry:Scrape:Targets:1:Job"] = "gone",
            ["Telemetry:Scrape:Targets:1:Url"] = $"http://127.0.0.1:{Platform.AppHost.Hosting.Ports.Free()}/metrics",
        });
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await exporter.DisposeAsync();
    }

    async Task<JsonElement[]> SeriesAsync(string name, bool wait = true)
    {
        var deadline = wait ? DateTime.UtcNow.AddSeconds(30) : DateTime.UtcNow;
        while (true)
        {
            using var json = JsonDocument.Parse(await host.Http().GetStringAsync($"/api/telemetry/metrics/{name}/samples"));
            var series = json.RootElement.GetProperty("series").EnumerateArray().Select(s => s.Clone()).ToArray();
            if (series.Length > 0 || DateTime.UtcNow > deadline) return series;
            await Task.Delay(100);
        }
    }

    static string Label(JsonElement series, string name) => series.GetProperty("labels").GetProperty(name).GetString()!;

    static double LastValue(JsonElement series) => series.GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble();

    [Fact]
    public async Task Scraped_samples_are_stored_with_job_and_instance_and_the_target_keeps_its_own_job()
    {
        var widgets = Assert.Single(await SeriesAsync("widgets_total"));

        Assert.Equal(42, LastValue(widgets));
        Assert.Equal("widgets", Label(widgets, "job"));
        Assert.Equal("inner", Label(widgets, "exported_job"));
        Assert.Equal("blue", Label(widgets, "colour"));
        Assert.Equal(new Uri(exporter.Urls.First()).Authority, Label(widgets, "instance"));
        Assert.Empty(await SeriesAsync("widgets_temperature", wait: false)); // NaN is not stored
    }

    [Fact]
    public async Task Up_is_1_for_a_live_target_and_0_for_a_dead_one()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement[] up;
        do up = await SeriesAsync("up");
        while (up.Length < 2 && DateTime.UtcNow < deadline);

        Assert.Equal(1, LastValue(up.Single(s => Label(s, "job") == "widgets")));
        Assert.Equal(0, LastValue(up.Single(s => Label(s, "job") == "gone")));
        Assert.Equal(1, LastValue(Assert.Single(await SeriesAsync("scrape_samples_scraped"), s => Label(s, "job") == "widgets")));
    }
}
