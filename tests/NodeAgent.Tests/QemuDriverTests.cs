using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.Drivers;
using Platform.TestSupport;

namespace Platform.NodeAgent.Tests;

/// <summary>
/// The qemu driver starting a real VM (qemu-system-x86 installed by .ci/run): with the node's best accelerator (KVM
/// where it works), and with TCG alone, which is what every node without /dev/kvm gets.
/// </summary>
public sealed class QemuDriverTests() : DriverTestBed("qemu-")
{
    [Theory]
    [InlineData("kvm,tcg")]
    [InlineData("tcg")]
    public async Task A_vm_starts_on_an_image_pauses_resumes_and_stops_and_its_image_is_left_unchanged(string accelerators)
    {
        var driver = new QemuDriver(NullLogger<ProcessDriver>.Instance, Options.Create(new QemuOptions { Accelerators = accelerators }));
        var fingerprint = driver.Fingerprint();
        Assert.True(fingerprint.Available, fingerprint.Reason);
        Assert.Contains(fingerprint.Attributes["accelerator"], accelerators.Split(','));
        var image = Path.Combine(Root, "disk.img");
        BootImage.Write(image);
        var pristine = File.ReadAllBytes(image);
        var assignment = new Assignment
        {
            WorkloadId = Guid.NewGuid().ToString(), Name = "vm", Driver = "qemu", Image = image, CpuMillis = 1000, MemoryBytes = 64L << 20,
        };

        var handle = await StartAsync(driver, assignment);
        string Log(string name) => File.Exists(Path.Combine(handle.Folder, name)) ? File.ReadAllText(Path.Combine(handle.Folder, name)) : "";
        // The guest's boot sector greets on the serial console (the workload's stdout), then halts: the VM ran.
        await Eventually.HoldsAsync(() => driver.Inspect(handle) == "exited" || Log("stdout.log").Contains(BootImage.Greeting), "the guest boots or qemu exits");
        Assert.True(driver.Inspect(handle) == "running", $"qemu is {driver.Inspect(handle)}; it said: {Log("stderr.log")}");

        driver.Signal(handle, Signals.Stop);
        await Eventually.HoldsAsync(() => driver.Inspect(handle) == "paused", "paused");
        driver.Signal(handle, Signals.Cont);
        await driver.StopAsync(handle, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal("exited", driver.Inspect(handle));
        Assert.Equal(pristine, File.ReadAllBytes(image));
    }
}
