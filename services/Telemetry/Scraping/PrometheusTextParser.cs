using System.Globalization;
using System.Text;

namespace Platform.Telemetry.Scraping;

/// <summary>One sample of the Prometheus text exposition format: name, labels, value and optional timestamp.</summary>
public sealed record ExposedSample(string Name, IReadOnlyList<KeyValuePair<string, string>> Labels, double Value, long? TimestampMs);

/// <summary>
/// Parses the Prometheus text exposition format (version 0.0.4): comment and HELP/TYPE lines are skipped, label values
/// may hold escaped backslashes, quotes and newlines, values may be NaN or ±Inf, and a sample may carry its own
/// timestamp in milliseconds. A malformed line fails the whole parse with its line number, as Prometheus fails a scrape.
/// </summary>
public static class PrometheusTextParser
{
    public static IReadOnlyList<ExposedSample> Parse(string text)
    {
        var samples = new List<ExposedSample>();
        var lineNumber = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNumber++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            try
            {
                samples.Add(ParseLine(line));
            }
            catch (FormatException ex)
            {
                throw new FormatException($"line {lineNumber}: {ex.Message}");
            }
        }
        return samples;
    }

    static ExposedSample ParseLine(string line)
    {
        var position = 0;
        var name = ReadName(line, ref position, allowColon: true);
        var labels = new List<KeyValuePair<string, string>>();
        if (position < line.Length && line[position] == '{')
        {
            position++;
            while (true)
            {
                SkipSpaces(line, ref position);
                if (position < line.Length && line[position] == '}') { position++; break; }
                var label = ReadName(line, ref position, allowColon: false);
                SkipSpaces(line, ref position);
                Expect(line, ref position, '=');
                SkipSpaces(line, ref position);
                labels.Add(new(label, ReadQuoted(line, ref position)));
                SkipSpaces(line, ref position);
                if (position < line.Length && line[position] == ',') { position++; continue; }
                Expect(line, ref position, '}');
                break;
            }
        }

        var rest = line[position..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is 0 or > 2) throw new FormatException("expected a value and an optional timestamp");
        long? timestamp = rest.Length == 2
            ? long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms) ? ms : throw new FormatException($"bad timestamp '{rest[1]}'")
            : null;
        return new(name, labels, ParseValue(rest[0]), timestamp);
    }

    static double ParseValue(string text) => text switch
    {
        "NaN" or "Nan" or "nan" => double.NaN,
        "+Inf" or "Inf" or "+inf" or "inf" => double.PositiveInfinity,
        "-Inf" or "-inf" => double.NegativeInfinity,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : throw new FormatException($"bad value '{text}'"),
    };

    static string ReadName(string line, ref int position, bool allowColon)
    {
        var start = position;
        while (position < line.Length && (char.IsAsciiLetterOrDigit(line[position]) || line[position] == '_' || (allowColon && line[position] == ':')))
            position++;
        if (position == start || char.IsAsciiDigit(line[start]))
            throw new FormatException($"expected a {(allowColon ? "metric" : "label")} name at column {start + 1}");
        return line[start..position];
    }

    static string ReadQuoted(string line, ref int position)
    {
        Expect(line, ref position, '"');
        var value = new StringBuilder();
        while (position < line.Length && line[position] != '"')
        {
            if (line[position] == '\\' && position + 1 < line.Length)
            {
                position++;
                value.Append(line[position] switch { 'n' => '\n', '\\' => '\\', '"' => '"', var other => other });
            }
            else value.Append(line[position]);
            position++;
        }
        Expect(line, ref position, '"');
        return value.ToString();
    }

    static void Expect(string line, ref int position, char expected)
    {
        if (position >= line.Length || line[position] != expected)
            throw new FormatException($"expected '{expected}' at column {position + 1}");
        position++;
    }

    static void SkipSpaces(string line, ref int position)
    {
        while (position < line.Length && line[position] is ' ' or '\t') position++;
    }
}
