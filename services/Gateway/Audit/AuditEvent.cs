using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Gateway.Audit;

/// <summary>One audited request or auth event, in the order the log holds it.</summary>
public sealed record AuditEvent(long Seq, DateTimeOffset At, string Actor, string Role, string Action, string Target, int Status,
    string ClientIp, string UserAgent, string RequestId)
{
    /// <summary>
    /// The canonical form the chain hashes: every field, tab-separated, tabs and newlines in values escaped, the time
    /// in microseconds (what PostgreSQL keeps), so the same row always hashes the same.
    /// </summary>
    public byte[] Canonical() => Encoding.UTF8.GetBytes(string.Join('\t',
        Seq.ToString(CultureInfo.InvariantCulture), (At.UtcTicks / 10).ToString(CultureInfo.InvariantCulture), Escape(Actor), Escape(Role), Escape(Action),
        Escape(Target), Status.ToString(CultureInfo.InvariantCulture), Escape(ClientIp), Escape(UserAgent), Escape(RequestId)));

    /// <summary>h_i = SHA-256(h_{i-1} ‖ canonical(event_i)); the first row's predecessor is 32 zero bytes.</summary>
    public byte[] Chain(byte[] previous) => SHA256.HashData([.. previous, .. Canonical()]);

    static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\t", "\\t").Replace("\n", "\\n");
}
