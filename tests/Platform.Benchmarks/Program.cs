using Platform.Benchmarks;

// bench/*.sh run these from the build output folder.
return args.FirstOrDefault() switch
{
    "ingest" => await IngestBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 1_000_000),
    "query" => await QueryBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 20),
    "migration" when args.Length > 1 => await MigrationBenchmark.RunAsync() is 0 ? await PlatformMigrationBenchmark.RunAsync(args[1]) : 1,
    "gateway" when args.Length > 1 => await GatewayBenchmark.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 2000),
    "realtime" when args.Length > 1 => await RealtimeBenchmark.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 1000, args.Length > 3 ? int.Parse(args[3]) : 30),
    "nsga2" when args.Length > 1 => Nsga2Benchmark.Run(args[1]),
    "placement" => PlacementBenchmark.Run(),
    "ledger" => await LedgerBenchmark.RunAsync(),
    "onion" => await OnionBenchmark.RunAsync(),
    "workloads" when args.Length > 1 => await WorkloadBenchmark.RunAsync(args[1], args.Length > 2 ? int.Parse(args[2]) : 100),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Platform.Benchmarks ingest [samples] | query [runs] | workloads <AppHost.dll> [count] | gateway <AppHost.dll> [requests] | migration <AppHost.dll> | realtime <AppHost.dll> [clients] [seconds] | nsga2 <out-dir> | placement | ledger | onion");
    return 2;
}
