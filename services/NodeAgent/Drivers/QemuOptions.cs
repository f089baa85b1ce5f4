namespace Platform.NodeAgent.Drivers;

/// <summary>How the qemu driver runs guests on this node (<c>NodeAgent:Qemu</c>).</summary>
public sealed class QemuOptions
{
    /// <summary>
    /// Accelerators to try, comma-separated, in order; the first whose probe VM comes up is used. <c>tcg</c> alone
    /// forces emulation (a node whose KVM is unreliable, or a test of the path every node without /dev/kvm takes).
    /// A string rather than a list: the configuration binder appends a list's configured items to its defaults.
    /// </summary>
    public string Accelerators { get; set; } = "kvm,tcg";

    /// <summary>
    /// TCG's translation buffer in MiB. qemu 7.2 reserves 1 GiB by default, which no sensible memory limit leaves room
    /// for; 64 MiB keeps small guests fast and is counted in the VM's limit.
    /// </summary>
    public int TcgBufferMiB { get; set; } = 64;

    /// <summary>
    /// The image store: a workload names a disk image in this folder (<c>debian.qcow2</c>), never a path. Default: the
    /// agent's state folder's <c>images</c>. Its images must be readable by the workloads' users (mode 0644, folders
    /// others may pass through), since a VM runs as its workload's user.
    /// </summary>
    public string? ImageDirectory { get; set; }
}
