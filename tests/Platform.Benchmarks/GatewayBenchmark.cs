using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Benchmarks;

/// <summary>
/// What the door costs: a REST read (GET /api/compute/nodes) through the gateway with a JWT and with an API token,
/// against the same read made directly to Compute with the JWT — latency one request at a time and throughput with
/// concurrent callers, all in one run — and, measured alone, a login (Argon2id) and one ES256 token validation.
/// </summary>
public static class GatewayBenchmark
{
    const string Read = "/api/compute/nodes";

    public static async Task<int> RunAsync(string appHostDll, int requests)
    {
        await using var bench = await BenchPlatform.StartAsync(appHostDll, nodes: 2, "gateway");
        var gateway = bench.Http.BaseAddress!;
        var jwt = await LoginAsync(bench.Http, bench.AdminPassword);
        var apiToken = bench.Http.DefaultRequestHeaders.Authorization!.Parameter!;
        var paths = new (string Label, Uri Base, string Token)[]
        {
            ("direct to compute, JWT", new Uri(bench.ServiceUrl("compute")), jwt),
            ("through the gateway, JWT", gateway, jwt),
            ("through the gateway, API token", gateway, apiToken),
        };

        var latencies = new Dictionary<string, List<double>>();
        var throughput = new Dictionary<string, double>();
        foreach (var round in new[] { 0, 1 }) // the second round reverses the order; each figure is the median of both
            foreach (var (label, baseUri, token) in round == 0 ? paths : paths.Reverse())
            {
                using var http = new HttpClient { BaseAddress = baseUri };
                http.DefaultRequestHeaders.Authorization = new("Bearer", token);
                await SequentialAsync(http, 300); // warm-up
                latencies.TryAdd(label, []);
                latencies[label].AddRange(await SequentialAsync(http, requests));
                throughput[label] = throughput.GetValueOrDefault(label) + await ConcurrentAsync(http, 16, TimeSpan.FromSeconds(5)) / 2;
            }

        var (d50, d99) = Percentiles(latencies[paths[0].Label]);
        foreach (var (label, _, _) in paths)
        {
            var (p50, p99) = Percentiles(latencies[label]);
            Console.WriteLine($"gateway: {label,-32} p50 {p50:F2} ms  p99 {p99:F2} ms  ({latencies[label].Count} requests)  {throughput[label]:F0} req/s (16 callers)"
                + (label == paths[0].Label ? "" : $"  adds {p50 - d50:F2} ms at p50, {p99 - d99:F2} ms at p99; {throughput[label] / throughput[paths[0].Label]:F2}x the direct rate"));
        }

        var logins = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            await LoginAsync(bench.Http, bench.AdminPassword);
            logins.Add(clock.Elapsed.TotalMilliseconds);
        }
        var (l50, l99) = Percentiles(logins);
        Console.WriteLine($"gateway: login (Argon2id m=19 MiB, t=2, p=1, through the gateway) p50 {l50:F1} ms  max {logins.Max():F1} ms");
        Console.WriteLine($"gateway: ES256 validation of one access token (JWKS key, in process) {await ValidationMicrosecondsAsync(bench.Http, jwt):F1} µs");
        return 0;
    }

    static async Task<string> LoginAsync(HttpClient http, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { username = "admin", password }) };
        using var response = await http.SendAsync(request);
        return JsonDocument.Parse(await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync()).RootElement.GetProperty("accessToken").GetString()!;
    }

    static async Task<List<double>> SequentialAsync(HttpClient http, int count)
    {
        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            using var response = await http.GetAsync(Read);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    static async Task<double> ConcurrentAsync(HttpClient http, int callers, TimeSpan duration)
    {
        var done = 0L;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                using var response = await http.GetAsync(Read);
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref done);
            }
        }));
        return done / clock.Elapsed.TotalSeconds;
    }

    /// <summary>What every service pays per request to check a token: an ES256 signature and the claims, with the issuer's public key.</summary>
    static async Task<double> ValidationMicrosecondsAsync(HttpClient http, string jwt)
    {
        var keys = new JsonWebKeySet(await http.GetStringAsync("/.well-known/jwks.json")).GetSigningKeys();
        var parameters = new TokenValidationParameters { ValidIssuer = "platform", ValidAudience = "platform", IssuerSigningKeys = keys, ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256] };
        var handler = new JsonWebTokenHandler();
        for (var i = 0; i < 500; i++) await handler.ValidateTokenAsync(jwt, parameters);
        const int runs = 5000;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < runs; i++)
            if (!(await handler.ValidateTokenAsync(jwt, parameters)).IsValid) throw new CryptographicException("the token did not validate");
        return clock.Elapsed.TotalMicroseconds / runs;
    }

    static (double P50, double P99) Percentiles(List<double> times)
    {
        var sorted = times.Order().ToList();
        return (sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1]);
    }
}
