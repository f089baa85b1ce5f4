using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Gateway.Identity;

/// <summary>
/// The shape of API and agent tokens, after GitHub's: a prefix that says what it is (<c>fogp_</c> for people's API
/// tokens, <c>foga_</c> for agents), 30 random base62 characters and a 6-character CRC32 checksum, so a leaked token
/// is recognisable by scanners and a mistyped one is refused without a lookup.
/// </summary>
public static class ApiTokenFormat
{
    public const string ApiPrefix = "fogp_", AgentPrefix = "foga_";
    const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const int RandomLength = 30, ChecksumLength = 6;

    public static string New(string prefix)
    {
        var random = new string(RandomNumberGenerator.GetItems<char>(Alphabet, RandomLength));
        return prefix + random + Checksum(random);
    }

    /// <summary>Whether the text looks like one of ours, with a checksum that matches.</summary>
    public static bool IsWellFormed(string token) =>
        (token.StartsWith(ApiPrefix, StringComparison.Ordinal) || token.StartsWith(AgentPrefix, StringComparison.Ordinal))
        && token.Length == ApiPrefix.Length + RandomLength + ChecksumLength
        && token[ApiPrefix.Length..].All(Alphabet.Contains)
        && Checksum(token.Substring(ApiPrefix.Length, RandomLength)) == token[^ChecksumLength..];

    public static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>What a list shows: the prefix and the first four random characters.</summary>
    public static string Display(string token) => token[..(ApiPrefix.Length + 4)] + "…";

    static string Checksum(string random)
    {
        var value = Crc32.HashToUInt32(Encoding.ASCII.GetBytes(random));
        var text = new char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--, value /= 62) text[i] = Alphabet[(int)(value % 62)];
        return new string(text);
    }
}
