using System.Net;
using Platform.Compute.V1;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// The platform's node benchmarks (NodeBench: CPU, memory, disk, network) run as a workload, contained exactly like a
/// process workload — its own user, cgroups, its folder — but running only our program: the workload's command is the
/// benchmark's kind, its arguments are checked here, and the program is copied into the workload's folder (the agent's
/// own files may not be readable by the workload's user) and run with the machine's <c>dotnet</c>.
/// </summary>
public sealed class BenchmarkDriver(ILogger<ProcessDriver> logger, WorkloadCgroups? cgroups = null) : ProcessDriver(logger, cgroups)
{
    public static readonly string[] Kinds = ["cpu", "memory", "disk", "network-server", "network-client"];
    static readonly string Program = Path.Combine(AppContext.BaseDirectory, "NodeBench.dll");

    public override string Name => "benchmark";

    public override DriverInfo Fingerprint()
    {
        var info = base.Fingerprint();
        info.Name = Name;
        info.Attributes["kinds"] = string.Join(", ", Kinds);
        if (info.Available && !File.Exists(Program)) (info.Available, info.Reason) = (false, $"the benchmark program is missing ({Program})");
        if (info.Available && !DotnetReachable()) (info.Available, info.Reason) = (false, "dotnet is not on a PATH folder the workloads' users can reach");
        return info;
    }

    /// <summary>Only the network benchmark's shared secret: no variable of anyone's choosing (LD_PRELOAD, DOTNET_STARTUP_HOOKS) reaches our program.</summary>
    protected override IDictionary<string, string> EnvironmentOf(Assignment assignment) =>
        assignment.Env.Where(v => v.Key == "BENCH_TOKEN").ToDictionary(v => v.Key, v => v.Value);

    /// <summary>Unlinks what is at <paramref name="path"/> and creates the file exclusively (O_CREAT|O_EXCL: a link put back meanwhile fails it).</summary>
    static void WriteNew(string path, byte[] content)
    {
        File.Delete(path); // a link is removed, not followed
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        file.Write(content);
    }

    static bool DotnetReachable() =>
        WorkloadUsers.ReachablePath(Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':').Any(folder => File.Exists(Path.Combine(folder, "dotnet")));

    public override Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("a benchmark is not migrated: run it again on the target");

    protected override IEnumerable<string> CommandLine(Assignment assignment, string folder)
    {
        var arguments = assignment.Args.ToArray();
        var valid = assignment.Command switch
        {
            "cpu" or "memory" or "disk" => arguments.Length == 0,
            "network-server" => arguments is [var bind] && IPAddress.TryParse(bind, out _),
            "network-client" => arguments is [var host, var port] && IPAddress.TryParse(host, out _) && int.TryParse(port, out var number) && number is > 0 and < 65536,
            _ => false,
        };
        if (!valid)
            throw new InvalidOperationException($"not a benchmark: {assignment.Command} with {arguments.Length} arguments (kinds: cpu, memory, disk, network-server <ip>, network-client <ip> <port>)");
        // Root writes into a folder the workload's user owns: whatever is at these names now (a link planted by an
        // earlier run of this workload, say) is removed, and the files are created anew, never opened through a link.
        var version = $"{Environment.Version.Major}.{Environment.Version.Minor}";
        WriteNew(Path.Combine(folder, "NodeBench.dll"), File.ReadAllBytes(Program));
        WriteNew(Path.Combine(folder, "NodeBench.runtimeconfig.json"), System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            runtimeOptions = new { tfm = $"net{version}", framework = new { name = "Microsoft.NETCore.App", version = $"{version}.0" } },
        }));
        return ["dotnet", "NodeBench.dll", assignment.Command, .. arguments];
    }
}
