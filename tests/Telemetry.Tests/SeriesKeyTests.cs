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
