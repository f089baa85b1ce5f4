namespace Platform.Telemetry.Scraping;

public static class ScrapingExtensions
{
    public static IHostApplicationBuilder AddScraping(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<ScrapeOptions>(builder.Configuration.GetSection("Telemetry:Scrape"));
        builder.Services.AddHttpClient("scrape");
        builder.Services.AddHostedService<Scraper>();
        return builder;
    }
}
