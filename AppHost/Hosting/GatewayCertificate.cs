using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Platform.AppHost.Hosting;

/// <summary>
/// The gateway's TLS certificate: the one configured (<c>Gateway__Tls__CertificatePath</c> and <c>__KeyPath</c>, PEM),
/// or a self-signed one for localhost, 127.0.0.1 and ::1 that the AppHost makes once and keeps in the data folder
/// (<c>tls/gateway.crt</c>, its key 0600), and makes again a month before it expires.
/// </summary>
public static class GatewayCertificate
{
    public static (string Certificate, string Key) Ensure(string dataDirectory)
    {
        if (Environment.GetEnvironmentVariable("Gateway__Tls__CertificatePath") is { Length: > 0 } configured
            && Environment.GetEnvironmentVariable("Gateway__Tls__KeyPath") is { Length: > 0 } configuredKey)
            return (configured, configuredKey);

        var folder = Path.Combine(dataDirectory, "tls");
        var (certificate, key) = (Path.Combine(folder, "gateway.crt"), Path.Combine(folder, "gateway.key"));
        if (File.Exists(certificate) && File.Exists(key) && X509Certificate2.CreateFromPem(File.ReadAllText(certificate)).NotAfter > DateTime.Now.AddDays(30))
            return (certificate, key);

        Directory.CreateDirectory(folder);
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=fog platform gateway (self-signed)", ecdsa, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(1));
        Platform.ServiceDefaults.Security.SecretFiles.Write(key, ecdsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certificate, created.ExportCertificatePem());
        return (certificate, key);
    }
}
