using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.Privacy.Relays;
using Platform.ServiceDefaults.Security;

namespace Platform.Privacy.Vpn;

/// <summary>
/// Seals the VPN's secrets (private and preshared keys) with AES-256-GCM under a key kept in a file beside the
/// authority key (made on first start, 0600), bound to what they belong to: a reader of the database gets ciphertext,
/// and a sealed key copied onto another row does not open.
/// </summary>
public sealed class KeySealer
{
    readonly byte[] key;

    public KeySealer(IOptions<PrivacyOptions> options)
    {
        var file = options.Value.VpnKeyFile is { Length: > 0 } configured ? configured
            : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DirectoryAuthority.KeyFile(options.Value)))!, "vpn-sealing.key");
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        if (File.Exists(file))
        {
            key = Convert.FromBase64String(File.ReadAllText(file).Trim());
        }
        else
        {
            key = RandomNumberGenerator.GetBytes(32);
            SecretFiles.Write(file, Convert.ToBase64String(key));
        }
    }

    public byte[] Seal(ReadOnlySpan<byte> secret, string boundTo)
    {
        var sealedBytes = new byte[12 + secret.Length + 16];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, 12));
        using var aes = new AesGcm(key, 16);
        aes.Encrypt(sealedBytes.AsSpan(0, 12), secret, sealedBytes.AsSpan(12, secret.Length), sealedBytes.AsSpan(12 + secret.Length), Encoding.UTF8.GetBytes(boundTo));
        return sealedBytes;
    }

    public byte[] Open(ReadOnlySpan<byte> sealedBytes, string boundTo)
    {
        var secret = new byte[sealedBytes.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedBytes[..12], sealedBytes[12..^16], sealedBytes[^16..], secret, Encoding.UTF8.GetBytes(boundTo));
        return secret;
    }
}
