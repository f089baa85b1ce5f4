using Google.Protobuf.Collections;

namespace Platform.Compute;

static class MapFieldExtensions
{
    public static Dictionary<string, string> ToDictionary(this MapField<string, string> map) => new(map);
}
