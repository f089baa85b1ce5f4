namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// The opaque <c>next_page_token</c> of a list ordered by (time, id), newest first: where the previous page's last item
/// stands, so the next page starts after it however many items were added meanwhile.
/// </summary>
public static class KeysetPageToken
{
    public static string Of(DateTimeOffset at, Guid id) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{at.UtcTicks}:{id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The position a token names; null for an empty token and for one this API did not give out.</summary>
    public static (DateTimeOffset At, Guid Id)? Parse(string token)
    {
        if (token == "") return null;
        try
        {
            var padded = token.Replace('-', '+').Replace('_', '/');
            var parts = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(padded.PadRight(padded.Length + (4 - padded.Length % 4) % 4, '='))).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], out var ticks) && ticks is >= 0 and <= 3155378975999999999 && Guid.TryParse(parts[1], out var id)
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), id) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
