using Platform.Benchmarks;

// dotnet run -c Release --project tests/Platform.Benchmarks -- ingest [samples]
return args.FirstOrDefault() switch
{
    "ingest" => await IngestBenchmark.RunAsync(args.Length > 1 ? int.Parse(args[1]) : 1_000_000),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Platform.Benchmarks ingest [samples]");
    return 2;
}
