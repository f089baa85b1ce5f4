using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;

namespace Platform.NodeAgent.Tests;

/// <summary>The benchmark driver running NodeBench as a contained workload, and what it refuses to let a workload steer.</summary>
public sealed class BenchmarkDriverTests() : DriverTestBed("bench-")
{
    readonly BenchmarkDriver driver = new(NullLogger<ProcessDriver>.Instance);

    static Assignment Benchmark(string kind, params string[] args) => new()
    {
        WorkloadId = Guid.NewGuid().ToString(), Name = "bench", Driver = "benchmark", Command = kind, Args = { args }, MemoryBytes = 1L << 30, CpuMillis = 1000,
        Env = { ["LD_PRELOAD"] = "/nonexistent-preload.so", ["DOTNET_STARTUP_HOOKS"] = "/nonexistent-hook.dll" },
    };

    static string Log(WorkloadHandle handle, string stream) => File.ReadAllText(Path.Combine(handle.Folder, $"{stream}.log"));

    [Fact]
    public async Task NodeBench_runs_as_the_workload_with_none_of_the_variables_it_was_given_and_prints_its_results()
    {
        Assert.True(driver.Fingerprint().Available, driver.Fingerprint().Reason);
        var handle = await StartAsync(driver, Benchmark("memory"));

        Assert.Equal(0, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Contains("\"benchmark\":\"memory_copy\"", Log(handle, "stdout"));
        Assert.DoesNotContain("preload", Log(handle, "stderr")); // LD_PRELOAD never reached the loader
    }

    [Fact]
    public async Task A_link_planted_where_the_program_goes_is_replaced_not_followed()
    {
        var victim = Path.Combine(Root, "victim.txt");
        File.WriteAllText(victim, "untouched");
        var assignment = Benchmark("memory");
        var folder = Directory.CreateDirectory(Path.Combine(Root, assignment.WorkloadId)).FullName;
        File.CreateSymbolicLink(Path.Combine(folder, "NodeBench.dll"), victim);
        File.CreateSymbolicLink(Path.Combine(folder, "NodeBench.runtimeconfig.json"), victim);

        var handle = await StartAsync(driver, assignment);

        Assert.Equal(0, await driver.WaitAsync(handle, CancellationToken.None));
        Assert.Equal("untouched", File.ReadAllText(victim));
        Assert.Null(new FileInfo(Path.Combine(folder, "NodeBench.dll")).LinkTarget);
    }

    [Theory]
    [InlineData("sh", new[] { "-c", "id" })]
    [InlineData("cpu", new[] { "--extra" })]
    [InlineData("network-server", new[] { "0.0.0.0; id" })]
    [InlineData("network-client", new[] { "10.0.0.1", "99999" })]
    public async Task Anything_but_a_benchmark_with_its_own_arguments_is_refused(string kind, string[] args) =>
        await Assert.ThrowsAsync<InvalidOperationException>(() => StartAsync(driver, Benchmark(kind, args)));
}
