using System.Globalization;
using System.Numerics;

namespace Platform.Tokenomics.Staking;

/// <summary>
/// Exact decimals as integers of their smallest step: shares have 18 places (Cosmos' Dec), the reward per share 30.
/// Stored as PostgreSQL numeric, read as text, computed here with truncating integer division, so no step of the
/// share arithmetic ever rounds in a delegator's favour against the pool or loses precision to a floating point.
/// </summary>
public static class FixedPoint
{
    public const int ShareScale = 18;
    public const int RewardScale = 30;
    public static readonly BigInteger OneShare = BigInteger.Pow(10, ShareScale);
    public static readonly BigInteger OneReward = BigInteger.Pow(10, RewardScale);

    public static BigInteger Parse(string text, int scale)
    {
        var negative = text.StartsWith('-');
        if (negative) text = text[1..];
        var dot = text.IndexOf('.');
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? "" : text[(dot + 1)..];
        fraction = fraction.Length >= scale ? fraction[..scale] : fraction.PadRight(scale, '0');
        var value = BigInteger.Parse(whole + fraction, NumberStyles.None, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    public static string Format(BigInteger value, int scale)
    {
        var negative = value.Sign < 0;
        var digits = BigInteger.Abs(value).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        return $"{(negative ? "-" : "")}{digits[..^scale]}.{digits[^scale..]}";
    }

    /// <summary>⌊a × b / c⌋ for non-negative operands.</summary>
    public static BigInteger MulDiv(BigInteger a, BigInteger b, BigInteger c) => a * b / c;
}
