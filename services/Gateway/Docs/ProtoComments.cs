using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Platform.Gateway.Docs;

/// <summary>
/// The protos' comments, as protoc wrote them into the generated code's XML docs (<c>Platform.Protos.xml</c>, beside
/// the assembly): a service's, an RPC's, a message's and a field's, found by the generated type and member names.
/// </summary>
public sealed partial class ProtoComments
{
    readonly Dictionary<string, string> summaries = [];

    public ProtoComments(string xmlPath)
    {
        if (!File.Exists(xmlPath)) return;
        foreach (var member in XDocument.Load(xmlPath).Descendants("member"))
            if (member.Attribute("name")?.Value is { } name && member.Element("summary")?.Value is { } summary)
                summaries[name] = Whitespace().Replace(summary, " ").Trim();
    }

    public static ProtoComments ForAssemblyOf(Type type) => new(Path.ChangeExtension(type.Assembly.Location, ".xml"));

    /// <summary>A type's comment (<c>T:Namespace.Name</c>), or null.</summary>
    public string? OfType(string fullName) => summaries.GetValueOrDefault($"T:{fullName}");

    /// <summary>A property's comment (<c>P:Namespace.Type.Property</c>), or null.</summary>
    public string? OfProperty(string typeFullName, string property) => summaries.GetValueOrDefault($"P:{typeFullName}.{property}");

    /// <summary>An RPC's comment, read from the generated service base's method (<c>M:Namespace.Service.ServiceBase.Rpc(…)</c>), or null.</summary>
    public string? OfRpc(string serviceTypeFullName, string serviceName, string rpc)
    {
        var prefix = $"M:{serviceTypeFullName}.{serviceName}Base.{rpc}(";
        return summaries.FirstOrDefault(s => s.Key.StartsWith(prefix, StringComparison.Ordinal)).Value;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
