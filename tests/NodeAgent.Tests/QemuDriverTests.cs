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
        var driver = Driver(accelerators);
        var fingerprint = driver.Fingerprint();
        Assert.True(fingerprint.Available, fingerprint.Reason);
        Assert.Contains(fingerprint.Attributes["accelerator"], accelerators.Split(','));
        var image = Path.Combine(Store, "disk.img");
        BootImage.Write(image);
        var pristine = File.ReadAllBytes(image);
        var assignment = Vm("disk.img");

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

    string Store => Directory.CreateDirectory(Path.Combine(Root, "images")).FullName;

    QemuDriver Driver(string accelerators = "tcg") =>
        new(NullLogger<ProcessDriver>.Instance, Options.Create(new QemuOptions { Accelerators = accelerators, ImageDirectory = Store }));

    static Assignment Vm(string image) =>
        new() { WorkloadId = Guid.NewGuid().ToString(), Name = "vm", Driver = "qemu", Image = image, CpuMillis = 1000, MemoryBytes = 64L << 20 };

    [Fact]
    public async Task A_vm_gets_only_a_plain_image_from_the_store_never_a_host_path_a_link_or_a_backing_file()
    {
        var driver = Driver();
        File.CreateSymbolicLink(Path.Combine(Store, "linked.img"), "/etc/shadow");
        var backed = new byte[512];
        ((ReadOnlySpan<byte>)[0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x01, 0x00]).CopyTo(backed); // qcow2 v3, backing file name at 256
        File.WriteAllBytes(Path.Combine(Store, "backed.qcow2"), backed);

        var refusals = new List<string>();
        foreach (var image in (string[])["/etc/shadow", "json:{\"file.filename\":\"/etc/shadow\"}", "linked.img", "backed.qcow2", "absent.img"])
            refusals.Add((await Assert.ThrowsAnyAsync<IOException>(() => driver.StartAsync(Vm(image), Path.Combine(Root, Guid.NewGuid().ToString()), CancellationToken.None))).Message);

        Assert.Contains("is not the name of an image", refusals[0]);
        Assert.Contains("is not the name of an image", refusals[1]);
        Assert.Contains("symbolic link", refusals[2]);
        Assert.Contains("has a backing file", refusals[3]);
        Assert.Contains("is not in this node's image store", refusals[4]);
    }
}
