using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Platform.Compute.V1;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// Virtual machines with qemu-system-x86_64, supervised like any process (the same wrapper, folder, signals and
/// re-attachment): KVM where /dev/kvm works, otherwise TCG emulation with a bounded translation buffer. The disk image
/// is used with snapshot=on, so the guest's writes never change the image. Present only when a probe VM really starts
/// here under the same limits a workload gets; the fingerprint names the accelerator.
/// </summary>
public sealed class QemuDriver(ILogger<ProcessDriver> logger, IOptions<QemuOptions> options, IHostApplicationLifetime? lifetime = null, WorkloadCgroups? cgroups = null) : ProcessDriver(logger, cgroups)
{
    const string Qemu = "qemu-system-x86_64";
    const long ProbeMemory = 16L << 20;
    /// <summary>What qemu needs beside the guest's RAM (device emulation, its own heap and libraries).</summary>
    static readonly long Overhead = 512L << 20;
    readonly Lazy<(string? Accelerator, string Reason)> probe = new(() => Probe(options.Value, lifetime?.ApplicationStopping ?? CancellationToken.None));

    public override string Name => "qemu";

    public override DriverInfo Fingerprint()
    {
        var info = base.Fingerprint();
        info.Name = Name;
        var (accelerator, reason) = probe.Value;
        if (accelerator is null) (info.Available, info.Reason) = (false, reason);
        else info.Attributes["accelerator"] = accelerator;
        info.Attributes["memory"] = accelerator == "tcg"
            ? $"the guest gets memory_bytes; qemu is allowed 512 MiB more plus its {options.Value.TcgBufferMiB} MiB TCG buffer (RLIMIT_DATA)"
            : "the guest gets memory_bytes; qemu's own overhead is allowed 512 MiB more (RLIMIT_DATA)";
        info.Attributes["disk"] = $"an image from the store {options.Value.ImageDirectory} by name, format given (raw or qcow2 without a backing file), with snapshot=on: guest writes are discarded";
        info.Attributes["isolation"] = "runs as the workload's user in its cgroups, with qemu's seccomp sandbox (-sandbox on, no spawn, no privilege changes)";
        info.Attributes["live_migration"] = "unavailable: a guest migrates cold or warm (qemu's own migration stream is not wired up)";
        return info;
    }

    public override Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the qemu driver migrates guests cold or warm");

    public override Task<WorkloadHandle> RestoreAsync(Assignment assignment, string folder, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the qemu driver migrates guests cold or warm");

    protected override long DataLimit(Assignment assignment) => Limit(options.Value, Accelerator, assignment.MemoryBytes);

    protected override IEnumerable<string> CommandLine(Assignment assignment, string folder) =>
        VmArguments(options.Value, Accelerator, assignment.MemoryBytes, (int)Math.Max(1, (assignment.CpuMillis + 999) / 1000), assignment.Name)
            .Concat(["-drive", $"file={DiskImage(assignment.Image).Replace(",", ",,")},format={DiskImages.Format(assignment.Image)},if=virtio,snapshot=on"]);

    /// <summary>
    /// The image's path in the store, once it is known to be a plain image there: a name (no path, no protocol), a
    /// regular file (no link), readable by the workload's user, and — a qcow2 — without a backing file (which would
    /// have qemu open whatever path the image names).
    /// </summary>
    string DiskImage(string name)
    {
        if (!DiskImages.IsName(name)) throw new IOException($"image '{name}' is not {DiskImages.Rule}");
        var store = options.Value.ImageDirectory ?? throw new IOException("this node has no image store (NodeAgent:Qemu:ImageDirectory)");
        var path = Path.Combine(store, name);
        using var image = Machine.UntrustedFiles.OpenRead(path) ?? throw new IOException($"image '{name}' is not in this node's image store ({store})");
        if (!File.GetUnixFileMode(path).HasFlag(UnixFileMode.OtherRead))
            throw new IOException($"image '{name}' is not readable by the VM's user (make it mode 0644)");
        if (DiskImages.Format(name) == "qcow2")
        {
            Span<byte> header = stackalloc byte[16];
            if (image.ReadAtLeast(header, 16, throwOnEndOfStream: false) < 16 || !header[..4].SequenceEqual((ReadOnlySpan<byte>)[0x51, 0x46, 0x49, 0xFB]))
                throw new IOException($"image '{name}' is not a qcow2 image");
            if (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header[8..16]) != 0)
                throw new IOException($"image '{name}' has a backing file; flatten it first (qemu-img convert)");
        }
        return path;
    }

    string Accelerator => probe.Value.Accelerator ?? "tcg";

    static long Limit(QemuOptions options, string accelerator, long memoryBytes) =>
        memoryBytes + Overhead + (accelerator == "tcg" ? (long)options.TcgBufferMiB << 20 : 0);

    static string[] VmArguments(QemuOptions options, string accelerator, long memoryBytes, int cpus, string name) =>
    [
        Qemu, "-accel", accelerator == "tcg" ? $"tcg,tb-size={options.TcgBufferMiB}" : accelerator,
        "-m", $"{Math.Max(16, memoryBytes >> 20)}M", "-smp", cpus.ToString(CultureInfo.InvariantCulture),
        "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-name", name,
        // qemu's seccomp filter: no obsolete system calls, no setuid or new privileges, no processes, no CPU affinity.
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    ];

    /// <summary>
    /// Why a workload's VM could not use KVM, or null: it runs as the workload's own user with no groups, so /dev/kvm
    /// must be readable and writable by others (the agent's probe, as root, would succeed where the VM then fails).
    /// </summary>
    static string? KvmClosedToWorkloads()
    {
        if (!File.Exists("/dev/kvm")) return "no /dev/kvm";
        var mode = File.GetUnixFileMode("/dev/kvm");
        return mode.HasFlag(UnixFileMode.OtherRead) && mode.HasFlag(UnixFileMode.OtherWrite)
            ? null
            : $"/dev/kvm is not open to the workloads' users (mode {Convert.ToString((int)mode, 8)}; Debian's udev rule makes it 0666)";
    }

    /// <summary>
    /// Starts a paused, disk-less VM with each accelerator in turn, with the same arguments and under the same
    /// RLIMIT_DATA a workload's VM gets (so the fingerprint cannot promise what a workload then fails to get), and asks
    /// it over QMP for its status: the first that answers is the accelerator. QMP answers only once the machine and its
    /// accelerator are set up, so a slow start on a loaded node is not mistaken for a working one, nor the reverse.
    /// </summary>
    static (string?, string) Probe(QemuOptions options, CancellationToken stopping)
    {
        if (MachineTools.Which(Qemu) is null) return (null, $"{Qemu} is not installed (Debian package qemu-system-x86)");
        if (MachineTools.Which("prlimit") is null) return (null, "prlimit is not installed (util-linux)");
        var reasons = new List<string>();
        foreach (var accelerator in options.Accelerators.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (accelerator == "kvm" && KvmClosedToWorkloads() is { } closed)
            {
                reasons.Add($"kvm: {closed}");
                continue;
            }
            string? failure;
            // A probe never takes the agent down: whatever goes wrong is the reason the driver is not offered.
            try { failure = ProbeVm(options, accelerator, stopping); }
            catch (Exception ex) when (ex is IOException or System.ComponentModel.Win32Exception or InvalidOperationException) { failure = ex.Message; }
            if (failure is null) return (accelerator, "");
            reasons.Add($"{accelerator}: {failure}");
        }
        return (null, reasons.Count == 0 ? "no accelerator to try (NodeAgent:Qemu:Accelerators)" : $"no VM could start: {string.Join("; ", reasons)}");
    }

    /// <summary>
    /// Why a probe VM with the accelerator did not come up (qemu's own words), or null when it did. The probe ends when
    /// the agent stops (a TERM during a slow probe must not hold the agent's shutdown, nor leave a VM behind), and the
    /// kernel kills it if the agent dies first (<c>setpriv --pdeathsig KILL</c>: the signal comes when the thread that
    /// started it ends, and that thread waits here for the probe to finish).
    /// </summary>
    static string? ProbeVm(QemuOptions options, string accelerator, CancellationToken stopping)
    {
        var start = new ProcessStartInfo("prlimit")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        string[] vm = [.. VmArguments(options, accelerator, ProbeMemory, 1, "probe"), "-S"];
        vm[Array.IndexOf(vm, "-serial") + 1] = "none";
        foreach (var argument in (string[])[$"--data={Limit(options, accelerator, ProbeMemory)}", "--", "setpriv", "--pdeathsig", "KILL", "--", .. vm, "-qmp", "stdio"])
            start.ArgumentList.Add(argument);
        using var qemu = Process.Start(start)!;
        var stderr = qemu.StandardError.ReadToEndAsync();
        try
        {
            qemu.StandardInput.WriteLine("""{"execute": "qmp_capabilities"}""");
            qemu.StandardInput.WriteLine("""{"execute": "query-status"}""");
            qemu.StandardInput.Flush();
        }
        catch (IOException)
        {
            // qemu has exited already (an accelerator it cannot use): its stderr says why, read below.
        }
        var answered = Task.Run(() =>
        {
            while (qemu.StandardOutput.ReadLine() is { } line)
                if (line.Contains("\"prelaunch\"", StringComparison.Ordinal)) return true;
            return false;
        });
        bool inTime;
        try
        {
            inTime = answered.Wait(TimeSpan.FromSeconds(30), stopping);
        }
        catch (OperationCanceledException)
        {
            qemu.Kill(entireProcessTree: true);
            qemu.WaitForExit();
            return "the agent stopped before the probe VM answered";
        }
        if (!qemu.HasExited) qemu.Kill(entireProcessTree: true);
        qemu.WaitForExit();
        if (inTime && answered.Result) return null;
        return stderr.Result.Trim() is { Length: > 0 } said ? said
            : inTime ? $"qemu exited with {qemu.ExitCode} before it answered" : "qemu did not answer within 30 s";
    }
}
