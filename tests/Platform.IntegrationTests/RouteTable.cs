using System.Reflection;
using System.Runtime.Loader;
using Google.Api;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Authorization;

namespace Platform.IntegrationTests;

/// <summary>
/// One REST route of a service: its method, path template, the RPC behind it and the policy that RPC declares (null:
/// none), with the RPC's request message and which of it the body carries ("*": all of it but the path's fields).
/// </summary>
public sealed record Route(string Service, string Rpc, string Method, string Path, string? Policy, MessageDescriptor? Input = null, string Body = "", string DeclaredRole = "")
{
    public override string ToString() => $"{Method} {Path} ({Service}.{Rpc}, {Policy ?? "no policy"})";
}

/// <summary>
/// Derives every REST route the services serve from what they build: each gRPC service class they implement, the
/// google.api.http rules of its proto (with additional bindings), and the [Authorize] policy of the method or class.
/// </summary>
public static class RouteTable
{
    static readonly string[] Services = [Projects.Compute.TargetPath, Projects.Telemetry.TargetPath, Projects.Scheduler.TargetPath, Projects.Tokenomics.TargetPath, Projects.Privacy.TargetPath];

    public static IReadOnlyList<Route> FromServices()
    {
        var routes = new List<Route>();
        foreach (var path in Services)
        {
            var folder = Path.GetDirectoryName(path)!;
            // The service's own dependencies come from its build folder; shared ones (protos, framework) are ours already.
            Assembly? Resolve(AssemblyLoadContext context, AssemblyName name) =>
                File.Exists(Path.Combine(folder, name.Name + ".dll")) ? context.LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
            AssemblyLoadContext.Default.Resolving += Resolve;
            try
            {
                var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(path);
                Type[] types;
                try { types = assembly.GetTypes(); }
                catch (ReflectionTypeLoadException ex) { types = [.. ex.Types.OfType<Type>()]; }
                foreach (var type in types.Where(t => t is { IsClass: true, IsAbstract: false }))
                    if (ServiceDescriptorOf(type) is { } descriptor)
                        routes.AddRange(RoutesOf(type, descriptor));
            }
            finally
            {
                AssemblyLoadContext.Default.Resolving -= Resolve;
            }
        }
        return routes;
    }

    /// <summary>The proto service a gRPC implementation derives from: its generated base is nested in a class with a static Descriptor.</summary>
    static ServiceDescriptor? ServiceDescriptorOf(Type type) =>
        type.BaseType?.DeclaringType?.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as ServiceDescriptor;

    static IEnumerable<Route> RoutesOf(Type implementation, ServiceDescriptor service)
    {
        var classPolicy = implementation.GetCustomAttribute<AuthorizeAttribute>()?.Policy;
        foreach (var method in service.Methods)
        {
            if (method.GetOptions()?.GetExtension(AnnotationsExtensions.Http) is not { } rule) continue;
            var overridden = implementation.GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly);
            var policy = overridden?.GetCustomAttribute<AuthorizeAttribute>()?.Policy ?? classPolicy;
            foreach (var binding in rule.AdditionalBindings.Prepend(rule))
                yield return new Route(service.Name, method.Name, Verb(binding), PathOf(binding), policy, method.InputType, binding.Body,
                    method.GetOptions()?.GetExtension(Platform.Protos.PlatformOptionsExtensions.RequiredRole) ?? "");
        }
    }

    static string Verb(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => "GET", HttpRule.PatternOneofCase.Post => "POST", HttpRule.PatternOneofCase.Put => "PUT",
        HttpRule.PatternOneofCase.Delete => "DELETE", HttpRule.PatternOneofCase.Patch => "PATCH", _ => rule.Custom.Kind,
    };

    static string PathOf(HttpRule rule) => rule.PatternCase switch
    {
        HttpRule.PatternOneofCase.Get => rule.Get, HttpRule.PatternOneofCase.Post => rule.Post, HttpRule.PatternOneofCase.Put => rule.Put,
        HttpRule.PatternOneofCase.Delete => rule.Delete, HttpRule.PatternOneofCase.Patch => rule.Patch, _ => rule.Custom.Path,
    };
}
