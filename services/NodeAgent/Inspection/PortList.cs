using System.Globalization;
using System.Net;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.V1;

namespace Platform.NodeAgent.Inspection;

/// <summary>
/// Listening TCP and bound UDP sockets from <c>/proc/net/{tcp,tcp6,udp,udp6}</c>, each with the process that owns it
/// (found through the socket inodes in <c>/proc/&lt;pid&gt;/fd</c>).
/// </summary>
public sealed class PortList(string procRoot = "/proc")
{
    const string Listen = "0A", UdpBound = "07";

    public ListPortsResponse List(IReadOnlyDictionary<int, string> workloadSessions)
    {
        var owners = SocketOwners();
        var response = new ListPortsResponse();
        foreach (var protocol in new[] { "tcp", "tcp6", "udp", "udp6" })
        {
            var file = $"{procRoot}/net/{protocol}";
            if (!File.Exists(file)) continue;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 10 || fields[3] != (protocol.StartsWith("tcp") ? Listen : UdpBound)) continue;
                var (address, port) = ParseEndpoint(fields[1]);
                var inode = long.Parse(fields[9], CultureInfo.InvariantCulture);
                var owner = owners.GetValueOrDefault(inode);
                response.Ports.Add(new PortInfo
                {
                    Protocol = protocol, Address = address, Port = port, Pid = owner?.Pid ?? 0, Command = owner?.Command ?? "",
                    WorkloadId = owner is null ? "" : workloadSessions.GetValueOrDefault(owner.Session, ""),
                });
            }
        }
        return response;
    }

    /// <summary>"0100007F:1F90" → 127.0.0.1, 8080; IPv6 addresses are four little-endian 32-bit words.</summary>
    public static (string Address, int Port) ParseEndpoint(string hex)
    {
        var parts = hex.Split(':');
        var port = int.Parse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var bytes = Convert.FromHexString(parts[0]);
        for (var word = 0; word < bytes.Length; word += 4) Array.Reverse(bytes, word, 4);
        return (new IPAddress(bytes).ToString(), port);
    }

    Dictionary<long, ProcessStat> SocketOwners()
    {
        var owners = new Dictionary<long, ProcessStat>();
        foreach (var process in ProcessStat.All(procRoot))
        {
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries($"{procRoot}/{process.Pid}/fd"))
                {
                    var target = new FileInfo(fd).LinkTarget;
                    if (target is not null && target.StartsWith("socket:[") && long.TryParse(target[8..^1], CultureInfo.InvariantCulture, out var inode))
                        owners.TryAdd(inode, process);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
        return owners;
    }
}
