using Microsoft.Extensions.Logging.Abstractions;
using Platform.Compute.V1;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.Workloads;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>The qemu driver starting a real VM (qemu-system-x86 installed by .ci/run; KVM where it works, else TCG).</summary>
public sealed class QemuDriverTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("qemu-").FullName;
    readonly QemuDriver driver = new(NullLogger<ProcessDriver>.Instance);

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public async Task A_vm_starts_on_an_image_pauses_resumes_and_stops_and_its_image_is_left_unchanged()
    {
        var fingerprint = driver.Fingerprint();
        Assert.True(fingerprint.Available, fingerprint.Reason);
        Assert.Contains(fingerprint.Attributes["accelerator"], new[] { "kvm", "tcg" });
        // An empty disk: the firmware finds nothing to boot and waits, which is a running VM all the same.
        var image = Path.Combine(root, "disk.img");
        File.WriteAllBytes(image, new byte[1 << 20]);
        var assignment = new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "vm", Driver = "qemu", Image = image, CpuMillis = 1000, MemoryBytes = 64L << 20,
        };

        var handle = await driver.StartAsync(assignment, Path.Combine(root, assignment.WorkloadId), CancellationToken.None);
        await Eventually.HoldsAsync(() => ProcessStat.All().Any(p => p.Session == handle.Pid && p.Command.StartsWith("qemu-system")), "qemu is running");
        await Task.Delay(500);
        Assert.Equal("running", driver.Inspect(handle));

        driver.Signal(handle, Signals.Stop);
        await Eventually.HoldsAsync(() => driver.Inspect(handle) == "paused", "paused");
        driver.Signal(handle, Signals.Cont);
        await driver.StopAsync(handle, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal("exited", driver.Inspect(handle));
        Assert.Equal(new byte[1 << 20], File.ReadAllBytes(image));
    }
}
