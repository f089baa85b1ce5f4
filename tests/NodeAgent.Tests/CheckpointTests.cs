using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Drivers;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// Live migration's checkpoint and restore with the real CRIU. Where <c>criu check</c> passes, a counting workload is
/// checkpointed and restored and counts on; where it fails (as on these machines: the kernel's vDSO), the fingerprint
/// says so and a checkpoint is refused with the reason while the workload runs on.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("checkpoint-").FullName;
    readonly ProcessDriver driver = new(NullLogger<ProcessDriver>.Instance);
    WorkloadHandle? handle;

    public void Dispose()
    {
        if (handle is not null) Signals.Send(-handle.Pid, Signals.Kill);
        Directory.Delete(root, recursive: true);
    }

    static int Count(string folder) => File.Exists(Path.Combine(folder, "count")) && int.TryParse(File.ReadAllText(Path.Combine(folder, "count")), out var n) ? n : 0;

    [Fact]
    public async Task A_workload_is_checkpointed_and_restored_where_criu_works_and_refused_with_the_reason_where_not()
    {
        var folder = Path.Combine(root, "counter");
        var assignment = new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "counter", Command = "sh", MemoryBytes = 256L << 20,
            Args = { "-c", "i=0; while :; do i=$((i+1)); echo $i > count.tmp && mv count.tmp count; sleep 0.05; done" },
        };
        handle = await driver.StartAsync(assignment, folder, CancellationToken.None);
        await Eventually.HoldsAsync(() => Count(folder) > 2, "counting");
        var live = driver.Fingerprint().Attributes["live_migration"];
        var images = Path.Combine(folder, CriuCheckpoint.ImagesFolder);

        if (live != "criu")
        {
            Assert.StartsWith("unavailable: ", live);
            var refused = await Assert.ThrowsAnyAsync<Exception>(() => driver.CheckpointAsync(handle, images, CancellationToken.None));
            Assert.Contains(live["unavailable: ".Length..], refused.Message);
            var counted = Count(folder);
            await Eventually.HoldsAsync(() => Count(folder) > counted, "still counting");
            return;
        }

        await driver.CheckpointAsync(handle, images, CancellationToken.None);
        Assert.Equal("exited", driver.Inspect(handle));
        var stopped = Count(folder);

        handle = await driver.RestoreAsync(assignment, folder, images, CancellationToken.None);

        Assert.Equal("running", driver.Inspect(handle));
        await Eventually.HoldsAsync(() => Count(folder) > stopped, "counting on from where it was checkpointed");
    }

    [Fact]
    public void The_probe_reports_criu_or_why_not()
    {
        var live = CriuProbe.LiveMigration;
        Assert.True(live == "criu" || live.StartsWith("unavailable: criu", StringComparison.Ordinal), live);
        Assert.StartsWith("unavailable: ", new SandboxDriver(NullLogger<ProcessDriver>.Instance).Fingerprint().Attributes["live_migration"]);
    }
}
