using System.Reflection;
using Google.Api;
using Google.Protobuf.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Platform.Protos;

namespace Platform.Gateway.Docs;

/// <summary>One REST route of a service, from its proto: the RPC, the HTTP rule's verb, path and body, and the role it requires.</summary>
public sealed record ProtoRoute(ServiceDescriptor Service, MethodDescriptor Rpc, string Verb, string Path, string Body, string Role, int Binding);

/// <summary>Every REST route the protos declare (google.api.http rules with their additional bindings).</summary>
public static class ProtoRouteTable
{
    public static IReadOnlyList<ProtoRoute> All() =>
    [
        .. Files().SelectMany(file => file.Services).SelectMany(service => service.Methods).SelectMany(rpc =>
        {
            if (rpc.GetOptions()?.GetExtension(AnnotationsExtensions.Http) is not { } rule) return [];
            var role = rpc.GetOptions().GetExtension(PlatformOptionsExtensions.RequiredRole) ?? "";
            return rule.AdditionalBindings.Prepend(rule).Where(binding => binding.PatternCase != HttpRule.PatternOneofCase.None)
                .Select((binding, index) => new ProtoRoute(rpc.Service, rpc, Verb(binding), PathOf(binding), binding.Body, role, index));
        }),
    ];

    /// <summary>The .proto files compiled into Platform.Protos: each generated <c>*Reflection</c> class holds one.</summary>
    static IEnumerable<FileDescriptor> Files() =>
        typeof(PlatformOptionsReflection).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>()
            .OrderBy(f => f.Name, StringComparer.Ordinal);

    static string Verb(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => "GET", HttpRule.PatternOneofCase.Post => "POST", HttpRule.PatternOneofCase.Put => "PUT",
        HttpRule.PatternOneofCase.Delete => "DELETE", HttpRule.PatternOneofCase.Patch => "PATCH", _ => rule.Custom.Kind.ToUpperInvariant(),
    };

    static string PathOf(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => rule.Get, HttpRule.PatternOneofCase.Post => rule.Post, HttpRule.PatternOneofCase.Put => rule.Put,
        HttpRule.PatternOneofCase.Delete => rule.Delete, HttpRule.PatternOneofCase.Patch => rule.Patch, _ => rule.Custom.Path,
    };
}
