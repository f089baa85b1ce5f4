using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Gateway.Identity;

/// <summary>
/// The issuer's ES256 keys, kept as PEM files in a folder only the gateway reads (replicas share it). The newest key
/// signs; every key young enough to have signed a token that still lives is published in the JWKS, so a rotation
/// never invalidates a token in flight. A new key is made when the newest is older than the rotation period.
/// </summary>
public sealed class SigningKeys(IOptions<IdentityOptions> options, TimeProvider clock, ILogger<SigningKeys> logger)
{
    readonly Lock gate = new();
    IReadOnlyList<(ECDsaSecurityKey Key, DateTimeOffset Created)> keys = [];
    DateTimeOffset loadedAt = DateTimeOffset.MinValue;

    /// <summary>The key new tokens are signed with.</summary>
    public ECDsaSecurityKey Current => Keys()[0].Key;

    /// <summary>Every key a token that is still valid may have been signed with, newest first.</summary>
    public IEnumerable<SecurityKey> ValidationKeys => Keys().Select(k => (SecurityKey)k.Key);

    /// <summary>
    /// Every key the issuer ever signed with, retired ones too (their files are kept): what verifies an audit head
    /// signed years ago.
    /// </summary>
    public IEnumerable<SecurityKey> EveryKeyEver()
    {
        Keys();
        return Load(options.Value.KeyDirectory).Select(k => (SecurityKey)k.Key);
    }

    public JsonWebKeySet Jwks()
    {
        var set = new JsonWebKeySet();
        foreach (var (key, _) in Keys())
        {
            var jwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(key.ECDsa.ExportParameters(false))) { KeyId = key.KeyId });
            jwk.Use = "sig";
            jwk.Alg = SecurityAlgorithms.EcdsaSha256;
            set.Keys.Add(jwk);
        }
        return set;
    }

    IReadOnlyList<(ECDsaSecurityKey Key, DateTimeOffset Created)> Keys()
    {
        var now = clock.GetUtcNow();
        lock (gate)
        {
            // Read again now and then: another replica may have rotated.
            if (keys.Count > 0 && now - loadedAt < TimeSpan.FromMinutes(1) && now - keys[0].Created < options.Value.KeyRotation) return keys;
            keys = LoadOrRotate(now);
            loadedAt = now;
            return keys;
        }
    }

    List<(ECDsaSecurityKey, DateTimeOffset)> LoadOrRotate(DateTimeOffset now)
    {
        var folder = options.Value.KeyDirectory is { Length: > 0 } configured ? configured
            : throw new InvalidOperationException("No key folder for the issuer (Gateway__Auth__KeyDirectory).");
        if (!Directory.Exists(folder))
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var loaded = Load(folder);
        if (loaded.Count == 0 || now - loaded[0].Created >= options.Value.KeyRotation)
        {
            loaded.Insert(0, Create(folder, now));
            logger.LogInformation("Made signing key {KeyId}", loaded[0].Key.KeyId);
        }
        // A key stopped signing when the next one was made; once the longest token lifetime has passed since, nothing it
        // signed still lives and it leaves the JWKS (its file stays, for the audit log's old signed heads).
        var longest = Longest(options.Value);
        return [.. loaded.Where((k, i) => i == 0 || now - loaded[i - 1].Created < longest)];
    }

    static TimeSpan Longest(IdentityOptions o) => new[] { o.AccessTokenLifetime, o.ClientTokenLifetime }.Max();

    static List<(ECDsaSecurityKey Key, DateTimeOffset Created)> Load(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*.pem")
            .Select(path =>
            {
                var ecdsa = ECDsa.Create();
                ecdsa.ImportFromPem(File.ReadAllText(path));
                return (Key: new ECDsaSecurityKey(ecdsa) { KeyId = Path.GetFileNameWithoutExtension(path) }, Created: (DateTimeOffset)File.GetLastWriteTimeUtc(path));
            })
            .OrderByDescending(k => k.Created)];

    static (ECDsaSecurityKey, DateTimeOffset) Create(string folder, DateTimeOffset now)
    {
        var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var kid = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(12));
        var path = Path.Combine(folder, $"{kid}.pem");
        Platform.ServiceDefaults.Security.SecretFiles.Write(path, ecdsa.ExportPkcs8PrivateKeyPem());
        File.SetLastWriteTimeUtc(path, now.UtcDateTime); // the key's age, which rotation reads, is the clock's
        return (new ECDsaSecurityKey(ecdsa) { KeyId = kid }, now);
    }
}
