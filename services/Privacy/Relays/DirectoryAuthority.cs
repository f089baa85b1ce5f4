using Microsoft.Extensions.Options;
using Platform.Onion;
using Platform.ServiceDefaults.Security;

namespace Platform.Privacy.Relays;

/// <summary>
/// The directory authority's Ed25519 key, which signs every consensus. Kept in a file only this service reads (made
/// on first start, 0600), not in the database: a reader of the database must not be able to sign a consensus.
/// </summary>
public sealed class DirectoryAuthority : IDisposable
{
    readonly RelayIdentity key;

    public DirectoryAuthority(IOptions<PrivacyOptions> options, ILogger<DirectoryAuthority> logger)
    {
        var file = KeyFile(options.Value);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        if (File.Exists(file))
        {
            key = RelayIdentity.Import(Convert.FromBase64String(File.ReadAllText(file).Trim()));
        }
        else
        {
            key = RelayIdentity.Create();
            SecretFiles.Write(file, Convert.ToBase64String(key.ExportPrivateKey()));
            logger.LogInformation("Made the directory authority's signing key in {File}", file);
        }
    }

    public static string KeyFile(PrivacyOptions options) => options.AuthorityKeyFile is { Length: > 0 } configured ? configured
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "platform-privacy", "authority.key");

    public byte[] PublicKey => key.PublicKey;

    public RelayIdentity SigningKey => key;

    public void Dispose() => key.Dispose();
}
