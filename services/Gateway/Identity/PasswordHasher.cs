using System.Globalization;
using System.Security.Cryptography;
using NSec.Cryptography;

namespace Platform.Gateway.Identity;

/// <summary>
/// Argon2id (libsodium, through NSec) at OWASP's parameters — 19 MiB, 2 passes, 1 lane — stored as a PHC string, so
/// a hash made with other parameters still verifies and is flagged for rehashing at the next login.
/// </summary>
public static class PasswordHasher
{
    const int MemoryKiB = 19 * 1024, Passes = 2, Lanes = 1, SaltBytes = 16, HashBytes = 32;

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Derive(password, salt, MemoryKiB, Passes, HashBytes);
        return $"$argon2id$v=19$m={MemoryKiB},t={Passes},p={Lanes}${Encode(salt)}${Encode(hash)}";
    }

    /// <summary>Whether the password matches; <paramref name="rehash"/> when the hash's parameters are not today's.</summary>
    public static bool Verify(string password, string phc, out bool rehash)
    {
        rehash = false;
        var parts = phc.Split('$');
        if (parts is not [_, "argon2id", "v=19", var parameters, var salt, var expected]) return false;
        var values = parameters.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        if (values.GetValueOrDefault("p") != Lanes) return false; // libsodium computes one lane only
        var stored = Decode(expected);
        var actual = Derive(password, Decode(salt), values["m"], values["t"], stored.Length);
        rehash = values["m"] != MemoryKiB || values["t"] != Passes;
        return CryptographicOperations.FixedTimeEquals(actual, stored);
    }

    static byte[] Derive(string password, byte[] salt, int memoryKiB, int passes, int length) =>
        PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters { DegreeOfParallelism = Lanes, MemorySize = memoryKiB, NumberOfPasses = passes })
            .DeriveBytes(password, salt, length);

    static string Encode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    static byte[] Decode(string text) => Convert.FromBase64String(text.PadRight(text.Length + (4 - text.Length % 4) % 4, '='));
}
