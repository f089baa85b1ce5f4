using System.Security.Cryptography.X509Certificates;
using Platform.AppHost.Hosting;

namespace Platform.AppHost.Tests;

public sealed class GatewayCertificateTests : IDisposable
{
    readonly string data = Directory.CreateTempSubdirectory("apphost-tls-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact]
    public void A_self_signed_certificate_for_loopback_is_made_once_and_kept_with_a_private_key()
    {
        var (certificate, key) = GatewayCertificate.Ensure(data);
        var first = File.ReadAllText(certificate);
        var again = GatewayCertificate.Ensure(data);

        Assert.Equal((certificate, key), again);
        Assert.Equal(first, File.ReadAllText(certificate));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using var loaded = X509Certificate2.CreateFromPemFile(certificate, key);
        Assert.True(loaded.HasPrivateKey);
        Assert.True(loaded.MatchesHostname("127.0.0.1") && loaded.MatchesHostname("localhost"));
        Assert.True(loaded.NotAfter > DateTime.Now.AddDays(300));
    }
}
