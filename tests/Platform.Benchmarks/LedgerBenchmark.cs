extern alias tokenomics;

using System.Diagnostics;
using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Npgsql;
using Platform.TestSupport;
using Platform.Tokenomics.V1;

namespace Platform.Benchmarks;

/// <summary>
/// Ledger throughput with 16 concurrent clients on one PostgreSQL, in one run: transfers one per call over the gRPC API
/// (idempotency key, locks in account order, double entry, overdraft check, invariants kept), the same through the
/// batched API (1,000 per call), against a baseline of one SQL statement per transfer (a CTE that debits with an
/// overdraft guard, credits and records: no key, no API) and against pgbench's TPC-B on the same server. The
/// invariants are checked after the run.
/// </summary>
public static class LedgerBenchmark
{
    const int Clients = 16, Accounts = 1_000, BatchSize = 1_000;
    static readonly TimeSpan Duration = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync()
    {
        var database = await TestInfrastructure.CreateDatabaseAsync("bench_ledger");
        var port = Platform.AppHost.Hosting.Ports.Free();
        await using var host = await ServiceHost<tokenomics::Program>.StartOnAsync(database,
            kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            HttpHandler = new BearerHandler(TestInfrastructure.Token("bench", "service", TimeSpan.FromDays(1))) { InnerHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true } },
        });
        var ledger = new Tokenomics.V1.Tokenomics.TokenomicsClient(channel);
        await ledger.MintAsync(new MintRequest { IdempotencyKey = "bench", Amount = Accounts * 1_000_000L });
        for (var first = 0; first < Accounts; first += BatchSize)
        {
            var fund = new CreateTransfersRequest();
            fund.Transfers.AddRange(Enumerable.Range(first, Math.Min(BatchSize, Accounts - first)).Select(a => new CreateTransferRequest
            {
                IdempotencyKey = $"fund-{a}", DebitAccountId = "treasury", CreditAccountId = $"user:b{a}", Amount = 1_000_000,
            }));
            await ledger.CreateTransfersAsync(fund);
        }

        var single = await RunAsync("gRPC, one transfer per call", async (client, random, n) =>
        {
            await ledger.CreateTransferAsync(Random(random, $"s{client}-{n}"));
            return 1;
        });
        var batched = await RunAsync($"gRPC, {BatchSize:N0} transfers per call", async (client, random, n) =>
        {
            var batch = new CreateTransfersRequest();
            for (var i = 0; i < BatchSize; i++) batch.Transfers.Add(Random(random, $"b{client}-{n}-{i}"));
            var results = await ledger.CreateTransfersAsync(batch);
            return results.Results.Count(r => r.Transfer is not null);
        });
        var sql = await SqlBaselineAsync(database);
        var tpcb = await PgbenchAsync(database);

        var stats = await ledger.GetStatsAsync(new GetStatsRequest());
        var holds = stats.Invariants.BalancesEqualSupply && stats.Invariants.DebitsEqualCredits && stats.Invariants.NegativeAccounts == 0;
        Console.WriteLine($"ledger: gRPC single {single:N0}/s = {single / sql:F2}x the one-statement SQL baseline ({sql:N0}/s); batched {batched:N0}/s = {batched / sql:F2}x; pgbench TPC-B {tpcb:N0} tps ({single / tpcb:F2}x)");
        Console.WriteLine($"ledger: invariants after the run: {(holds ? "hold" : "BROKEN")} ({stats.Invariants})");
        return holds ? 0 : 1;
    }

    static CreateTransferRequest Random(Random random, string key)
    {
        var from = random.Next(Accounts);
        var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
        return new CreateTransferRequest { IdempotencyKey = key, DebitAccountId = $"user:b{from}", CreditAccountId = $"user:b{to}", Amount = 1 + random.Next(100) };
    }

    /// <summary>16 clients calling <paramref name="call"/> for the duration; answers transfers applied per second.</summary>
    static async Task<double> RunAsync(string label, Func<int, Random, int, Task<int>> call)
    {
        long applied = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            for (var n = 0; clock.Elapsed < Duration; n++) Interlocked.Add(ref applied, await call(client, random, n));
        })));
        var rate = applied / clock.Elapsed.TotalSeconds;
        Console.WriteLine($"ledger: {label,-32} {applied,9:N0} transfers in {clock.Elapsed.TotalSeconds:F1} s = {rate,8:N0}/s");
        return rate;
    }

    /// <summary>One statement per transfer, straight to PostgreSQL: debit with an overdraft guard, credit, record.</summary>
    static async Task<double> SqlBaselineAsync(string database)
    {
        await using var db = NpgsqlDataSource.Create(database);
        await using (var setup = db.CreateCommand($"""
            CREATE TABLE bench_accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
            CREATE TABLE bench_transfers (id bigserial PRIMARY KEY, debit int NOT NULL, credit int NOT NULL, amount bigint NOT NULL, at timestamptz NOT NULL DEFAULT now());
            INSERT INTO bench_accounts SELECT g, 1000000 FROM generate_series(0, {Accounts - 1}) g;
            """)) await setup.ExecuteNonQueryAsync();
        const string transfer = """
            WITH d AS (UPDATE bench_accounts SET balance = balance - $3 WHERE id = $1 AND balance >= $3 RETURNING id),
                 c AS (UPDATE bench_accounts SET balance = balance + $3 WHERE id = $2 AND EXISTS (SELECT 1 FROM d) RETURNING id)
            INSERT INTO bench_transfers (debit, credit, amount) SELECT $1, $2, $3 FROM c
            """;
        return await RunAsync("SQL, one statement per transfer", async (client, random, n) =>
        {
            var t = Random(random, "");
            await using var command = db.CreateCommand(transfer);
            command.Parameters.Add(new() { Value = int.Parse(t.DebitAccountId[6..]) });
            command.Parameters.Add(new() { Value = int.Parse(t.CreditAccountId[6..]) });
            command.Parameters.Add(new() { Value = t.Amount });
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    return await command.ExecuteNonQueryAsync();
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < 5)
                {
                }
            }
        });
    }

    /// <summary>pgbench's TPC-B-like transaction (scale 16), 16 clients, on the same server.</summary>
    static async Task<double> PgbenchAsync(string database)
    {
        var builder = new NpgsqlConnectionStringBuilder(database);
        var bin = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true })!;
        var pgbench = Path.Combine((await bin.StandardOutput.ReadToEndAsync()).Trim(), "pgbench");
        async Task<string> RunAsync(params string[] arguments)
        {
            var info = new ProcessStartInfo(pgbench) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-h", builder.Host!, "-p", builder.Port.ToString(), "-U", builder.Username! }.Concat(arguments).Append(builder.Database!)) info.ArgumentList.Add(a);
            if (builder.Password is { } password) info.Environment["PGPASSWORD"] = password;
            using var process = Process.Start(info)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            var errors = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"pgbench failed: {errors}");
            return output;
        }
        await RunAsync("-i", "-q", "-s", "16");
        var report = await RunAsync("-c", Clients.ToString(), "-j", "2", "-T", ((int)Duration.TotalSeconds).ToString());
        var line = report.Split('\n').First(l => l.StartsWith("tps = ", StringComparison.Ordinal));
        var tps = double.Parse(line["tps = ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine($"ledger: {"pgbench TPC-B, 16 clients",-32} {tps,8:N0} tps");
        return tps;
    }
}
