using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Platform.TestSupport;

namespace Platform.Telemetry.Tests;

/// <summary>The Prometheus remote write receiver, fed by a real Prometheus from Debian's packages.</summary>
public sealed class RemoteWriteTests
{
    [Fact]
    public async Task Prometheus_remote_writes_its_own_metrics_into_Telemetry()
    {
        var telemetryPort = Platform.AppHost.Hosting.Ports.Free();
        var prometheusPort = Platform.AppHost.Hosting.Ports.Free();
        await using var host = await ServiceHost<Program>.StartOnAsync(
            await TestInfrastructure.CreateDatabaseAsync("remote_write"),
            kestrel => kestrel.Listen(IPAddress.Loopback, telemetryPort, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));
        var folder = Directory.CreateTempSubdirectory("prometheus-").FullName;
        var config = Path.Combine(folder, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: prom
                static_configs:
                  - targets: ['127.0.0.1:{prometheusPort}']
            remote_write:
              - url: http://127.0.0.1:{telemetryPort}/api/v1/write
                authorization:
                  credentials: {TestInfrastructure.Token("prometheus", "agent")}
                queue_config:
                  batch_send_deadline: 1s
            """);

        try
        {
            using var prometheus = RealPeerTests.StartPeer("prometheus", $"--config.file={config}", $"--storage.tsdb.path={folder}/data",
                $"--web.listen-address=127.0.0.1:{prometheusPort}");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                using var json = JsonDocument.Parse(await host.Http().GetStringAsync("/api/telemetry/metrics/prometheus_build_info/samples"));
                var series = json.RootElement.GetProperty("series").EnumerateArray().ToList();
                if (series.Count > 0)
                {
                    var labels = series[0].GetProperty("labels");
                    Assert.Equal("prom", labels.GetProperty("job").GetString());
                    Assert.Equal($"127.0.0.1:{prometheusPort}", labels.GetProperty("instance").GetString());
                    Assert.Equal(1, series[0].GetProperty("points").EnumerateArray().Last().GetProperty("value").GetDouble());
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, $"nothing remote-written within 60 s; Prometheus said:\n{prometheus.Output}");
                await Task.Delay(250);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_request_with_one_bad_series_is_refused_naming_it_and_stores_nothing()
    {
        await using var host = await ServiceHost<Program>.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var write = new PrometheusRemote.WriteRequest
        {
            Timeseries =
            {
                new PrometheusRemote.TimeSeries { Labels = { new PrometheusRemote.Label { Name = "__name__", Value = "good_total" } }, Samples = { new PrometheusRemote.Sample { Value = 1, Timestamp = now } } },
                new PrometheusRemote.TimeSeries { Labels = { new PrometheusRemote.Label { Name = "__name__", Value = "bad name" } }, Samples = { new PrometheusRemote.Sample { Value = 2, Timestamp = now } } },
            },
        };
        var body = new ByteArrayContent(Snappier.Snappy.CompressToArray(Google.Protobuf.MessageExtensions.ToByteArray(write)));
        body.Headers.ContentEncoding.Add("snappy");

        using var response = await host.Http(TestInfrastructure.Token("prometheus", "agent")).PostAsync("/api/v1/write", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("samples[1].name", await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain("good_total", await host.Http().GetStringAsync("/api/telemetry/metrics/names"));
    }

    [Fact]
    public async Task Remote_write_without_snappy_or_with_garbage_is_refused()
    {
        await using var host = await ServiceHost<Program>.StartAsync();
        var http = host.Http(TestInfrastructure.Token("prometheus", "agent"));

        using var plain = await http.PostAsync("/api/v1/write", new ByteArrayContent([1, 2, 3]));
        var garbage = new ByteArrayContent([0xFF, 0xFF, 0xFF, 0xFF]);
        garbage.Headers.ContentEncoding.Add("snappy");
        using var broken = await http.PostAsync("/api/v1/write", garbage);
        using var anonymous = await host.AnonymousHttp().PostAsync("/api/v1/write", new ByteArrayContent([]));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Contains("snappy", await broken.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
