using System.Text.RegularExpressions;

namespace Platform.Gateway.Identity;

/// <summary>What a username, a password and a role must be; checked once, at the edge.</summary>
public static partial class UserRules
{
    public static readonly string[] Roles = ["viewer", "operator", "admin"];
    public const int MinPasswordLength = 12, MaxPasswordLength = 256;

    public static IEnumerable<(string, string)> Username(string? username, string field = "username")
    {
        if (string.IsNullOrEmpty(username)) yield return (field, "is required");
        else if (!UsernamePattern().IsMatch(username)) yield return (field, "must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        else if (username == "anonymous") yield return (field, "is reserved: it names callers without a token");
    }

    /// <summary>NIST SP 800-63B: length, not composition rules; at most 256 so hashing stays bounded.</summary>
    public static IEnumerable<(string, string)> Password(string? password, string field = "password")
    {
        if (string.IsNullOrEmpty(password)) yield return (field, "is required");
        else if (password.Length < MinPasswordLength) yield return (field, $"must be at least {MinPasswordLength} characters");
        else if (password.Length > MaxPasswordLength) yield return (field, $"must be at most {MaxPasswordLength} characters");
    }

    public static IEnumerable<(string, string)> Role(string? role, string field = "role")
    {
        if (string.IsNullOrEmpty(role)) yield return (field, "is required");
        else if (!Roles.Contains(role)) yield return (field, $"must be one of {string.Join(", ", Roles)}");
    }

    /// <summary>Whether the text could be a username at all (a login for anything else is refused before any lookup).</summary>
    public static bool IsPlausible(string username) => UsernamePattern().IsMatch(username);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex UsernamePattern();
}
