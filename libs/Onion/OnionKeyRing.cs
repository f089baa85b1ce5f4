using System.Security.Cryptography;

namespace Platform.Onion;

/// <summary>
/// A relay's X25519 onion keys: the current one, which its descriptor advertises, and the one before it, still
/// accepted for an overlap so that clients holding an older consensus can extend through the relay. A key older than
/// rotation + overlap is forgotten (and its private half wiped), so a stolen old key opens no new circuits.
/// </summary>
public sealed class OnionKeyRing(TimeSpan rotation, TimeSpan overlap)
{
    readonly Lock gate = new();
    readonly List<OnionKey> keys = [];

    public sealed record OnionKey(byte[] PrivateKey, byte[] PublicKey, DateTimeOffset CreatedAt);

    public TimeSpan Rotation => rotation;

    /// <summary>Loads keys kept from an earlier run (newest first).</summary>
    public void Load(IEnumerable<OnionKey> saved)
    {
        lock (gate) keys.AddRange(saved.OrderByDescending(k => k.CreatedAt));
    }

    public OnionKey Current
    {
        get { lock (gate) return keys.Count > 0 ? keys[0] : throw new InvalidOperationException("no onion key yet: call Rotate first"); }
    }

    public IReadOnlyList<OnionKey> All
    {
        get { lock (gate) return [.. keys]; }
    }

    /// <summary>Makes a new key when the current one is due, and drops keys past their overlap. True when anything changed.</summary>
    public bool Rotate(DateTimeOffset now)
    {
        lock (gate)
        {
            var changed = false;
            if (keys.Count == 0 || now - keys[0].CreatedAt >= rotation)
            {
                var key = Curve25519.NewPrivateKey();
                keys.Insert(0, new OnionKey(key, Curve25519.PublicKey(key), now));
                changed = true;
            }
            for (var i = keys.Count - 1; i >= 1; i--)
            {
                // A key is retired when its successor was made; it stays accepted for the overlap after that.
                if (now - keys[i - 1].CreatedAt < overlap) continue;
                CryptographicOperations.ZeroMemory(keys[i].PrivateKey);
                keys.RemoveAt(i);
                changed = true;
            }
            return changed;
        }
    }

    /// <summary>The private key for an advertised public key, or null when it is unknown or expired.</summary>
    public byte[]? Find(byte[] publicKey)
    {
        lock (gate)
            foreach (var key in keys)
                if (CryptographicOperations.FixedTimeEquals(key.PublicKey, publicKey)) return key.PrivateKey;
        return null;
    }
}
