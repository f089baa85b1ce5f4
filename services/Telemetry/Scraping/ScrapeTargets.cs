namespace Platform.Telemetry.Scraping;

/// <summary>Configuration under <c>Telemetry:Scrape</c>.</summary>
public sealed class ScrapeOptions
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Scrape every platform service found in service discovery (<c>services:&lt;name&gt;:http</c>).</summary>
    public bool Platform { get; set; } = true;

    public List<ScrapeTarget> Targets { get; set; } = [];
}

/// <summary>A Prometheus text-format endpoint: its job name and URL.</summary>
public sealed class ScrapeTarget
{
    public string Job { get; set; } = "";
    public string Url { get; set; } = "";

    /// <summary>The <c>instance</c> label: host and port of the URL (for platform services, the service's name).</summary>
    public string Instance => Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri.Authority : Url;

    public static IEnumerable<ScrapeTarget> Resolve(ScrapeOptions options, IConfiguration configuration)
    {
        var configured = options.Targets.Where(t => !string.IsNullOrWhiteSpace(t.Job) && Uri.TryCreate(t.Url, UriKind.Absolute, out _));
        if (!options.Platform) return configured;
        // Names resolved by service discovery: http://compute/metrics reaches whichever replica it lists.
        var platform = configuration.GetSection("services").GetChildren()
            .Where(service => service.GetSection("http").Exists())
            .Select(service => new ScrapeTarget { Job = service.Key, Url = $"http://{service.Key}/metrics" });
        return configured.Concat(platform);
    }
}
