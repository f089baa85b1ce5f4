using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf.Reflection;
using Npgsql;

namespace Platform.IntegrationTests;

/// <summary>
/// Every REST route behind the gateway, sent what a careless or hostile client sends: malformed JSON, wrong types,
/// huge strings, negative and overflowing numbers, unknown enum values and bad ids, in the path, the query and the
/// body, with a token its policy admits. No answer may be a 5xx, and a refused mutation changes no table.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class BadInputSweepTests(PlatformFixture fixture)
{
    static readonly string Huge = new('x', 100_000);
    static readonly string[] BadIds = ["not-an-id", "0", "-1", "99999999999999999999999", "00000000-0000-0000-0000-000000000000", new string('f', 5000), "%2e%2e%2fetc"];
    static readonly string[] MalformedBodies = ["{", "[]", "null", "\"text\"", "{\"unknown_field\": 1}", "{\"a\": {\"b\": {\"c\": [[[[[[]]]]]]}}}"];

    /// <summary>Tables that change by themselves (ingest, heartbeats, logins, the audit log): not what a refused request could have written.</summary>
    [GeneratedRegex(@"^(telemetry\.(samples|series|agent_cursors|batch_cursors|rollup|agents|alerts|alert_|samples_|rollups)|(gateway|identity)\.(audit|refresh|sessions|login|signed_heads)|.*schema_migrations)")]
    private static partial Regex ChangesByItself();

    [Fact]
    public async Task No_route_answers_bad_input_with_a_5xx_and_no_refused_mutation_writes_anything()
    {
        var platform = fixture.Platform;
        var tokens = await RouteTableTests.TokensForAsync(platform);
        var exposed = RouteTableTests.GatewayPaths();
        var routes = RouteTable.FromServices().Where(r => exposed.Any(p => p.IsMatch(r.Path)) && r.Policy is not null && !r.Path.Contains("stream", StringComparison.OrdinalIgnoreCase)).ToList();
        await using var db = NpgsqlDataSource.Create(platform.EnvironmentOf("compute")["ConnectionStrings__platformdb"]);
        var tables = await TablesAsync(db);
        using var http = platform.CreateAnonymousHttpClient();

        var failures = new List<string>();
        var sent = 0;
        // Sends one request: a 5xx is a failure, and so is a refused mutation after which a table has other rows.
        async Task TryAsync(string method, string target, string? body, string token)
        {
            var before = method == "GET" ? null : await CountsAsync(db, tables);
            var (status, answer) = await SendAsync(http, method, target, body, token);
            sent++;
            if ((int)status >= 500) failures.Add($"{method} {target} {Shorten(body)} → {(int)status} {Shorten(answer)}");
            else if (before is not null && (int)status >= 400 && await CountsAsync(db, tables) is var after && !after.SequenceEqual(before))
                failures.Add($"{method} {target} {Shorten(body)} → {(int)status} but changed {string.Join(", ", after.Zip(before, tables).Where(t => t.First != t.Second).Select(t => t.Third))}");
            else if (before is not null && (int)status < 300)
                await SettleAsync(target, tokens["admin"].Token);
        }

        // A mutation the platform accepted (a body of unknown fields is a valid request to start a benchmark run, say)
        // may go on working in the background: stopped where it can be, then waited out, so what it writes later is
        // not taken for the write of a refused request.
        async Task SettleAsync(string target, string adminToken)
        {
            if (target.StartsWith("/api/benchmarks/start", StringComparison.Ordinal) || target.StartsWith("/api/actions/run_benchmark", StringComparison.Ordinal))
                await SendAsync(http, "POST", "/api/benchmarks/stop", "{}", adminToken);
            var previous = await CountsAsync(db, tables);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            for (var quiet = 0; quiet < 3 && DateTime.UtcNow < deadline;)
            {
                await Task.Delay(500);
                var now = await CountsAsync(db, tables);
                quiet = now.SequenceEqual(previous) ? quiet + 1 : 0;
                previous = now;
            }
        }

        foreach (var route in routes)
            foreach (var (path, body) in Variants(route))
                await TryAsync(route.Method, path, body, tokens[RouteTableTests.AdmittedRole(route.Policy!)].Token);

        // The gateway's own routes (minimal APIs, not in the protos): the same bodies and queries, as an admin.
        var gatewayRoutes = new (string Method, string Path, string[] Fields)[]
        {
            ("POST", "/api/auth/login", ["username", "password"]), ("POST", "/api/auth/refresh", ["refreshToken"]), ("POST", "/api/auth/logout", ["refreshToken"]),
            ("POST", "/api/auth/password", ["currentPassword", "newPassword"]), ("POST", "/api/auth/tokens", ["name", "role", "expiresInDays"]),
            ("POST", "/api/auth/agents", ["agentId", "name"]), ("POST", "/api/auth/users", ["username", "password", "role"]),
            ("PUT", "/api/auth/users/routes-nobody", ["role", "password", "disabled"]), ("DELETE", "/api/auth/tokens/not-a-token", []),
            ("GET", "/api/audit", ["limit", "before", "actor"]),
        };
        foreach (var (method, path, names) in gatewayRoutes)
        {
            string?[] bodies = method is "GET" or "DELETE" ? [null] : [.. MalformedBodies.Concat(names.SelectMany(name => WrongJson.Select(value => $"{{\"{name}\": {value}}}")))];
            var paths = method == "GET" ? names.SelectMany(name => (string[])[$"{path}?{name}=abc", $"{path}?{name}=-1", $"{path}?{name}=%00", $"{path}?{name}={Huge[..5000]}"]) : [path];
            foreach (var target in paths)
                foreach (var body in bodies)
                    await TryAsync(method, target, body, tokens["admin"].Token);
        }
        Assert.True(sent > 500, $"only {sent} requests sent");
        Assert.True(failures.Count == 0, $"{failures.Count} of {sent} requests:\n{string.Join("\n", failures.Take(60))}");
    }

    /// <summary>Bad ids in the path; for a body route, malformed bodies and each field made wrong; for a query route, each field made wrong in the query.</summary>
    static IEnumerable<(string Path, string? Body)> Variants(Route route)
    {
        string Fill(string id) => Parameter().Replace(route.Path, _ => Uri.EscapeDataString(id).Replace("%252e", "%2e").Replace("%252f", "%2f"));
        var good = Fill(Guid.NewGuid().ToString());
        var hasBody = route.Method is "POST" or "PUT" or "PATCH";
        foreach (var id in BadIds.Where(_ => route.Path.Contains('{')))
            yield return (Parameter().Replace(route.Path, _ => id), hasBody ? "{}" : null);
        var fields = route.Input?.Fields.InDeclarationOrder().Where(f => !route.Path.Contains($"{{{f.Name}")).ToList() ?? [];
        if (hasBody)
        {
            foreach (var body in MalformedBodies) yield return (good, body);
            foreach (var field in fields)
                foreach (var value in WrongValues(field))
                    yield return (good, $"{{\"{field.JsonName}\": {value}}}");
        }
        else
        {
            foreach (var field in fields.Where(f => !f.IsMap && f.FieldType != FieldType.Message))
                foreach (var value in (string[])["abc", "-1", "99999999999999999999999", "1e400", Huge[..5000], "%00"])
                    yield return ($"{good}?{field.JsonName}={value}", null);
        }
    }

    static readonly string[] WrongJson = ["12345", "\"not a number\"", JsonSerializer.Serialize(new string('x', 100_000)), "-1", "9223372036854775808", "1e400", "\"a\\u0000b\"", "{\"nested\": true}", "[1, \"two\", null]", "null"];

    static IEnumerable<string> WrongValues(FieldDescriptor field)
    {
        yield return field.FieldType == FieldType.String ? "12345" : "\"not a number\"";
        yield return "\"a\\u0000b\"";
        yield return JsonSerializer.Serialize(Huge);
        yield return "-1";
        yield return "9223372036854775808";
        yield return "-9223372036854775809";
        yield return "1e400";
        yield return "\"bogus-enum-value\"";
        yield return "{\"nested\": true}";
        yield return "[1, \"two\", null]";
    }

    static async Task<(HttpStatusCode, string)> SendAsync(HttpClient http, string method, string path, string? body, string token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        request.Headers.Authorization = new("Bearer", token);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var text = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(timeout.Token);
            return (response.StatusCode, text);
        }
        catch (HttpRequestException ex)
        {
            // A response the server broke off: as bad as a 500.
            return (HttpStatusCode.InternalServerError, $"the response was broken off: {ex.InnerException?.Message ?? ex.Message}");
        }
    }

    static async Task<List<string>> TablesAsync(NpgsqlDataSource db)
    {
        await using var command = db.CreateCommand("""
            SELECT table_schema || '.' || table_name FROM information_schema.tables
            WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema', 'public')
              AND NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = table_name)
            ORDER BY 1
            """);
        var tables = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        return [.. tables.Where(t => !ChangesByItself().IsMatch(t))];
    }

    static async Task<long[]> CountsAsync(NpgsqlDataSource db, IReadOnlyList<string> tables)
    {
        await using var command = db.CreateCommand($"SELECT ARRAY[{string.Join(", ", tables.Select(t => $"(SELECT count(*) FROM {t})"))}]");
        return (long[])(await command.ExecuteScalarAsync())!;
    }

    static string Shorten(string? text) => text is null ? "" : text.Length > 160 ? text[..160] + "…" : text;

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();
}
