using System.Diagnostics;
using System.Globalization;
using Platform.Compute.V1;

namespace Platform.NodeAgent.Workloads;

/// <summary>
/// Virtual machines with qemu-system-x86_64, supervised like any process (the same wrapper, folder, signals and
/// re-attachment): KVM where /dev/kvm works, otherwise TCG emulation. The disk image is used with snapshot=on, so the
/// guest's writes never change the image. Present only when a probe VM really starts here; the fingerprint names the
/// accelerator.
/// </summary>
public sealed class QemuDriver(ILogger<ProcessDriver> logger) : ProcessDriver(logger)
{
    const string Qemu = "qemu-system-x86_64";
    static readonly long Overhead = 512L << 20;
    readonly Lazy<(string? Accelerator, string Reason)> probe = new(Probe);

    public override string Name => "qemu";

    public override DriverInfo Fingerprint()
    {
        var info = base.Fingerprint();
        info.Name = Name;
        var (accelerator, reason) = probe.Value;
        if (accelerator is null) (info.Available, info.Reason) = (false, reason);
        else info.Attributes["accelerator"] = accelerator;
        info.Attributes["memory"] = "the guest gets memory_bytes; qemu's own overhead is allowed 512 MiB more (RLIMIT_DATA)";
        info.Attributes["disk"] = "the image with snapshot=on: guest writes are discarded";
        info.Attributes["live_migration"] = "unavailable: a guest migrates cold or warm (qemu's own migration stream is not wired up)";
        return info;
    }

    public override Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the qemu driver migrates guests cold or warm");

    public override Task<WorkloadHandle> RestoreAsync(string folder, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the qemu driver migrates guests cold or warm");

    protected override long DataLimit(Assignment assignment) => assignment.MemoryBytes + Overhead;

    protected override IEnumerable<string> CommandLine(Assignment assignment, string folder) =>
    [
        Qemu, "-accel", probe.Value.Accelerator ?? "tcg", "-m", $"{Math.Max(16, assignment.MemoryBytes >> 20)}M",
        "-smp", Math.Max(1, (assignment.CpuMillis + 999) / 1000).ToString(CultureInfo.InvariantCulture),
        "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-name", assignment.Name,
        "-drive", $"file={assignment.Image.Replace(",", ",,")},if=virtio,snapshot=on",
    ];

    /// <summary>Starts a paused, disk-less VM with KVM, then with TCG; the first that stays up is the accelerator.</summary>
    static (string?, string) Probe()
    {
        if (Which(Qemu) is null) return (null, $"{Qemu} is not installed (Debian package qemu-system-x86)");
        var reasons = new List<string>();
        foreach (var accelerator in File.Exists("/dev/kvm") ? new[] { "kvm", "tcg" } : ["tcg"])
        {
            using var vm = Process.Start(new ProcessStartInfo(Qemu, ["-accel", accelerator, "-m", "16M", "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "none", "-S"])
            {
                RedirectStandardError = true, UseShellExecute = false,
            })!;
            if (!vm.WaitForExit(TimeSpan.FromMilliseconds(500)))
            {
                vm.Kill();
                vm.WaitForExit();
                return (accelerator, "");
            }
            reasons.Add($"{accelerator}: {vm.StandardError.ReadToEnd().Trim()}");
        }
        return (null, $"no VM could start: {string.Join("; ", reasons)}");
    }
}
