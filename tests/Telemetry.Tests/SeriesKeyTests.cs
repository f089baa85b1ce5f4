using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Tests;

public sealed class SeriesKeyTests
{
    [Fact]
    public void Label_order_does_not_change_a_series_identity()
    {
        var a = SeriesKey.From("up", [new("b", "2"), new("a", "1")]);
        var b = SeriesKey.From("up", [new("a", "1"), new("b", "2")]);

        Assert.Equal(a.Identity, b.Identity);
        Assert.Equal("""{"a":"1","b":"2"}""", a.LabelsJson);
    }

    [Fact]
    public void Moving_characters_between_name_label_and_value_gives_another_series()
    {
        var keys = new[]
        {
            SeriesKey.From("ab", [new("c", "d")]),
            SeriesKey.From("a", [new("bc", "d")]),
            SeriesKey.From("ab", [new("cd", "")]),
            SeriesKey.From("ab", []),
        };

        Assert.Equal(keys.Length, keys.Select(k => k.Identity).Distinct().Count());
    }
}

public sealed class SeriesInternerTests
{
    static Google.Protobuf.Collections.MapField<string, string> Labels(params (string Key, string Value)[] pairs)
    {
        var map = new Google.Protobuf.Collections.MapField<string, string>();
        foreach (var (key, value) in pairs) map[key] = value;
        return map;
    }

    [Fact]
    public void A_series_seen_before_is_the_same_key_whatever_the_label_order()
    {
        var interner = new SeriesInterner();

        var first = interner.Intern("up", Labels(("a", "1"), ("b", "2")));
        var again = interner.Intern("up", Labels(("b", "2"), ("a", "1")));

        Assert.Same(first, again);
    }

    [Fact]
    public void Another_name_label_or_value_is_another_series()
    {
        var interner = new SeriesInterner();
        var keys = new[]
        {
            interner.Intern("up", Labels(("a", "1"))),
            interner.Intern("down", Labels(("a", "1"))),
            interner.Intern("up", Labels(("a", "2"))),
            interner.Intern("up", Labels(("b", "1"))),
            interner.Intern("up", Labels(("a", "1"), ("b", "1"))),
        };

        Assert.Equal(keys.Length, keys.Select(k => k.Identity).Distinct().Count());
        Assert.False(keys[0].Matches("up", Labels(("a", "1"), ("b", "1"))));
    }
}
