using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Platform.IntegrationTests;

/// <summary>The gateway's HTTPS endpoint: TLS 1.3 only, with the certificate the AppHost made and kept in the data folder.</summary>
[Collection(PlatformCollection.Name)]
public sealed class HttpsTests(PlatformFixture fixture)
{
    X509Certificate2 Expected => X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(fixture.Platform.DataDirectory, "tls", "gateway.crt")));

    async Task<SslStream> HandshakeAsync(SslProtocols protocols)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fixture.Platform.GatewayHttps.Port);
        var expected = Expected;
        var ssl = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) => certificate is not null && certificate.GetCertHashString() == expected.GetCertHashString());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "127.0.0.1", EnabledSslProtocols = protocols });
        return ssl;
    }

    [Fact]
    public async Task The_gateway_speaks_TLS_13_with_its_kept_certificate_and_refuses_older_versions()
    {
        await using var ssl = await HandshakeAsync(SslProtocols.Tls12 | SslProtocols.Tls13);
        Assert.Equal(SslProtocols.Tls13, ssl.SslProtocol);
        // AES-256 in GCM: encryption and authentication in one, with TLS's own sequence numbers against replays.
        Assert.Equal(TlsCipherSuite.TLS_AES_256_GCM_SHA384, ssl.NegotiatedCipherSuite);
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(SslProtocols.Tls12));

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == Expected.GetCertHashString() };
        using var http = new HttpClient(handler) { BaseAddress = fixture.Platform.GatewayHttps };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
        var key = Path.Combine(fixture.Platform.DataDirectory, "tls", "gateway.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
    }
}
