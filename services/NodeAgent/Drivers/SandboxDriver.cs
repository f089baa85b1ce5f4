using System.Diagnostics;
using Platform.Compute.V1;

namespace Platform.NodeAgent.Drivers;

/// <summary>
/// The process driver's workloads inside a bubblewrap sandbox: the machine's file system read-only, a private /tmp,
/// /dev and /proc of their own, their own PID, IPC and UTS namespaces, and only the workload's folder writable.
/// Present only where bwrap is installed and can really create the namespaces (probed once).
/// </summary>
public sealed class SandboxDriver(ILogger<ProcessDriver> logger, WorkloadCgroups? cgroups = null) : ProcessDriver(logger, cgroups)
{
    readonly Lazy<string?> unusable = new(Probe);

    public override string Name => "sandbox";

    public override DriverInfo Fingerprint()
    {
        var info = base.Fingerprint();
        info.Name = Name;
        info.Attributes["isolation"] = "bubblewrap: read-only root, private /tmp, own pid/ipc/uts namespaces and (network: none) net namespace, no capabilities, writable workload folder";
        info.Attributes["live_migration"] = "unavailable: the sandbox's namespaces are not checkpointed; migrate cold or warm";
        if (info.Available && unusable.Value is { } reason) (info.Available, info.Reason) = (false, reason);
        return info;
    }

    public override Task CheckpointAsync(WorkloadHandle handle, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the sandbox driver does not checkpoint its namespaces");

    public override Task<WorkloadHandle> RestoreAsync(Assignment assignment, string folder, string imagesDir, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the sandbox driver does not restore checkpoints");

    protected override IEnumerable<string> CommandLine(Assignment assignment, string folder) =>
        ["bwrap", .. Isolation(folder, assignment.Network != WorkloadNetworks.Host), "--", assignment.Command, .. assignment.Args];

    /// <summary>
    /// Every capability dropped (no remount, no mknod, no raw sockets, no ptrace of anything outside), and, unless the
    /// workload asked for the node's network, a network namespace of its own with nothing but a loopback: it cannot
    /// reach PostgreSQL, Garnet or any service on the node.
    /// </summary>
    static string[] Isolation(string folder, bool ownNetwork) =>
        ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--bind", folder, folder, "--chdir", folder,
         "--unshare-pid", "--unshare-ipc", "--unshare-uts", .. (ownNetwork ? (string[])["--unshare-net"] : []), "--hostname", "sandbox",
         "--cap-drop", "ALL"];

    /// <summary>Why bwrap cannot sandbox here (not installed, namespaces refused), or null when it can.</summary>
    static string? Probe()
    {
        if (MachineTools.Which("bwrap") is null) return "bwrap is not installed (Debian package bubblewrap)";
        var folder = Path.GetTempPath();
        using var probe = Process.Start(new ProcessStartInfo("bwrap", [.. Isolation(folder, ownNetwork: true), "--", "true"]) { RedirectStandardError = true, UseShellExecute = false })!;
        if (!probe.WaitForExit(TimeSpan.FromSeconds(10))) return "bwrap did not start within 10 s";
        return probe.ExitCode == 0 ? null : $"bwrap cannot create the sandbox here: {probe.StandardError.ReadToEnd().Trim()}";
    }
}
