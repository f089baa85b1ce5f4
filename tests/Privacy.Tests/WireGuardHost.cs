using System.Diagnostics;
using Platform.TestSupport;

namespace Platform.Privacy.Tests;

/// <summary>
/// A host of its own: a network namespace running Debian's <c>wireguard-go</c> (userspace, on /dev/net/tun) with an
/// interface configured through <c>wg setconf</c> from the coordinator's wg-quick configs, as an operator would.
/// Names carry a random suffix, so parallel tests never share a namespace, an interface or a UAPI socket.
/// </summary>
public sealed class WireGuardHost : IAsyncDisposable
{
    public string Namespace { get; }
    public string Interface { get; }
    readonly Process daemon;

    WireGuardHost(string ns, string iface, Process daemon)
    {
        Namespace = ns;
        Interface = iface;
        this.daemon = daemon;
    }

    public static async Task<(WireGuardHost A, WireGuardHost B)> PairAsync(string addressA, string addressB)
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        string nsA = $"wga-{suffix}", nsB = $"wgb-{suffix}", vethA = $"va{suffix}", vethB = $"vb{suffix}";
        await RunAsync("ip", $"netns add {nsA}");
        await RunAsync("ip", $"netns add {nsB}");
        await RunAsync("ip", $"link add {vethA} type veth peer name {vethB}");
        await RunAsync("ip", $"link set {vethA} netns {nsA}");
        await RunAsync("ip", $"link set {vethB} netns {nsB}");
        foreach (var (ns, veth, address) in new[] { (nsA, vethA, addressA), (nsB, vethB, addressB) })
        {
            await RunAsync("ip", $"-n {ns} addr add {address}/24 dev {veth}");
            await RunAsync("ip", $"-n {ns} link set {veth} up");
            await RunAsync("ip", $"-n {ns} link set lo up");
        }
        return (await StartAsync(nsA, $"wg{suffix}a"), await StartAsync(nsB, $"wg{suffix}b"));
    }

    static async Task<WireGuardHost> StartAsync(string ns, string iface)
    {
        var info = new ProcessStartInfo("ip", ["netns", "exec", ns, "wireguard-go", iface]) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.Environment["WG_PROCESS_FOREGROUND"] = "1";
        var daemon = Process.Start(info)!;
        var host = new WireGuardHost(ns, iface, daemon);
        await Eventually.HoldsAsync(async () => (await TryRunAsync("ip", $"-n {ns} link show {iface}")).ExitCode == 0, $"wireguard-go's {iface} in {ns}", TimeSpan.FromSeconds(10));
        return host;
    }

    /// <summary>
    /// Applies a wg-quick config: its Address goes on the interface, the rest through <c>wg setconf</c> (with the
    /// private key the owner holds when the config no longer carries it).
    /// </summary>
    public async Task ApplyAsync(string config, string privateKey)
    {
        var lines = config.Split('\n').Select(l => l.Trim()).ToList();
        var address = lines.Single(l => l.StartsWith("Address = ", StringComparison.Ordinal))["Address = ".Length..];
        var setconf = lines.Where(l => !l.StartsWith("Address = ", StringComparison.Ordinal) && !l.StartsWith("PrivateKey = ", StringComparison.Ordinal)).ToList();
        setconf.Insert(setconf.IndexOf("[Interface]") + 1, $"PrivateKey = {privateKey}");
        var file = Path.Combine(Path.GetTempPath(), $"{Interface}-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(file, string.Join('\n', setconf));
        try
        {
            await RunAsync("ip", $"netns exec {Namespace} wg setconf {Interface} {file}");
        }
        finally
        {
            File.Delete(file);
        }
        await RunAsync("ip", $"-n {Namespace} addr flush dev {Interface}");
        await RunAsync("ip", $"-n {Namespace} addr add {address} dev {Interface}");
        await RunAsync("ip", $"-n {Namespace} link set {Interface} up");
    }

    public async Task<bool> PingAsync(string address) => (await TryRunAsync("ip", $"netns exec {Namespace} ping -c 1 -W 1 {address}")).ExitCode == 0;

    static async Task RunAsync(string file, string arguments)
    {
        var (code, output) = await TryRunAsync(file, arguments);
        if (code != 0) throw new InvalidOperationException($"{file} {arguments}: exit {code}: {output}");
    }

    static async Task<(int ExitCode, string Output)> TryRunAsync(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }

    public async ValueTask DisposeAsync()
    {
        if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
        await daemon.WaitForExitAsync();
        await TryRunAsync("ip", $"netns del {Namespace}");
    }
}
