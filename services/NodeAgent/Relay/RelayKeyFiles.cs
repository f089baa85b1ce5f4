using System.Text.Json;
using Platform.NodeAgent.Identity;
using Platform.Onion;
using Platform.ServiceDefaults.Security;

namespace Platform.NodeAgent.Relay;

/// <summary>
/// The relay's keys in the agent's state folder, owner-only: the Ed25519 identity (stable across restarts, so the
/// relay keeps its place in the directory) and the onion keys not yet expired (so circuits built with the previous
/// key during its overlap still work after a restart).
/// </summary>
public sealed class RelayKeyFiles(NodeIdentity node)
{
    readonly string folder = Path.Combine(node.StateDirectory, "relay");
    string IdentityFile => Path.Combine(folder, "identity.key");
    string OnionKeysFile => Path.Combine(folder, "onion-keys.json");

    public RelayIdentity LoadOrCreateIdentity()
    {
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (File.Exists(IdentityFile)) return RelayIdentity.Import(Convert.FromBase64String(File.ReadAllText(IdentityFile).Trim()));
        var identity = RelayIdentity.Create();
        SecretFiles.Write(IdentityFile, Convert.ToBase64String(identity.ExportPrivateKey()));
        return identity;
    }

    public IEnumerable<OnionKeyRing.OnionKey> LoadOnionKeys()
    {
        if (!File.Exists(OnionKeysFile)) return [];
        try
        {
            return JsonSerializer.Deserialize<SavedKey[]>(File.ReadAllText(OnionKeysFile))?
                .Select(k => new OnionKeyRing.OnionKey(Convert.FromBase64String(k.PrivateKey), Curve25519.PublicKey(Convert.FromBase64String(k.PrivateKey)), k.CreatedAt))
                ?? [];
        }
        catch (Exception ex) when (ex is JsonException or FormatException or ArgumentException)
        {
            return []; // unreadable: new keys are made, and the descriptor says so
        }
    }

    public void SaveOnionKeys(IEnumerable<OnionKeyRing.OnionKey> keys) =>
        SecretFiles.Write(OnionKeysFile, JsonSerializer.Serialize(keys.Select(k => new SavedKey(Convert.ToBase64String(k.PrivateKey), k.CreatedAt)).ToArray()));

    sealed record SavedKey(string PrivateKey, DateTimeOffset CreatedAt);
}
