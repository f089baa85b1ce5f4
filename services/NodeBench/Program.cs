using Platform.NodeBench;

// dotnet NodeBench.dll <kind> [arguments]: each result is one JSON line on stdout (BenchResult); a failure is a
// message on stderr and exit code 1. Kinds: cpu, memory, disk, network-server <bind address>,
// network-client <host> <port> (both with BENCH_TOKEN in their environment).
try
{
    var results = args switch
    {
        ["cpu"] => CpuBench.Run(),
        ["memory"] => MemoryBench.Run(),
        ["disk"] => DiskBench.Run(Directory.GetCurrentDirectory()),
        ["network-server", var bind] => await NetworkBench.ServeAsync(bind),
        ["network-client", var host, var port] when int.TryParse(port, out var number) => await NetworkBench.MeasureAsync(host, number),
        _ => throw new ArgumentException("usage: NodeBench cpu | memory | disk | network-server <bind address> | network-client <host> <port>"),
    };
    foreach (var result in results) Console.WriteLine(result.ToJson());
    return 0;
}
catch (Exception ex) when (ex is ArgumentException or IOException or System.Net.Sockets.SocketException or TimeoutException or UnauthorizedAccessException or OperationCanceledException)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}
