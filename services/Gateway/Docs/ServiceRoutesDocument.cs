using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Yarp.ReverseProxy.Configuration;

namespace Platform.Gateway.Docs;

/// <summary>
/// Adds to the gateway's OpenAPI document every service route the gateway forwards: built from the protos'
/// google.api.http rules, messages and comments — the same source the services' transcoding serves, so the two cannot
/// drift — with each route's required role. A route whose path no proxy route forwards is left out.
/// </summary>
public sealed partial class ServiceRoutesDocument(IProxyConfigProvider proxy) : IOpenApiDocumentTransformer
{
    public const string BearerScheme = "bearer";

    static readonly ProtoComments Comments = ProtoComments.ForAssemblyOf(typeof(Protos.PlatformOptionsReflection));

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var forwarded = proxy.GetConfig().Routes.Select(r => r.Match.Path).OfType<string>().Select(PatternOf).ToList();
        var schemas = new ProtoSchemas(document, Comments);
        document.Paths ??= [];
        foreach (var route in ProtoRouteTable.All().Where(r => forwarded.Any(p => p.IsMatch(Sample(r.Path)))))
        {
            if (!document.Paths.TryGetValue(route.Path, out var item)) document.Paths[route.Path] = item = new OpenApiPathItem();
            ((OpenApiPathItem)item).AddOperation(new HttpMethod(route.Verb), Operation(route, document, schemas));
        }
        foreach (var service in ProtoRouteTable.All().Select(r => r.Service).Distinct())
        {
            document.Tags ??= new HashSet<OpenApiTag>();
            document.Tags.Add(new OpenApiTag { Name = service.Name, Description = Comments.OfType(ClrName(service)) });
        }
        return Task.CompletedTask;
    }

    static OpenApiOperation Operation(ProtoRoute route, OpenApiDocument document, ProtoSchemas schemas)
    {
        var comment = Comments.OfRpc(ClrName(route.Service), route.Service.Name, route.Rpc.Name);
        var pathFields = PathParameter().Matches(route.Path).Select(m => m.Groups[1].Value).ToList();
        var operation = new OpenApiOperation
        {
            OperationId = route.Binding == 0 ? $"{route.Service.Name}.{route.Rpc.Name}" : $"{route.Service.Name}.{route.Rpc.Name}.{route.Binding + 1}",
            Summary = Humanize(route.Rpc.Name),
            Description = $"{comment}{(comment is null ? "" : "\n\n")}Requires the **{route.Role}** role{RoleNote(route.Role)}.",
            Tags = new HashSet<OpenApiTagReference> { new(route.Service.Name, document) },
            Parameters = [],
            Responses = new OpenApiResponses
            {
                ["200"] = Json("OK", schemas.For(route.Rpc.OutputType)),
                ["default"] = Json("An error: the gRPC status code, a message, and details such as the fields that were wrong", ErrorSchema(document)),
            },
            Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }],
            Extensions = new Dictionary<string, IOpenApiExtension> { ["x-platform-role"] = new JsonNodeExtension(JsonValue.Create(route.Role)) },
        };
        foreach (var name in pathFields)
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Path, Required = true,
                Schema = route.Rpc.InputType.FindFieldByName(name) is { } field ? schemas.Field(field) : new OpenApiSchema { Type = JsonSchemaType.String },
            });
        if (route.Body == "*")
            operation.RequestBody = Body(schemas.Without(route.Rpc.InputType, pathFields));
        else if (route.Body != "" && route.Rpc.InputType.FindFieldByName(route.Body) is { } bodyField)
            operation.RequestBody = Body(schemas.Field(bodyField));
        if (route.Body != "*")
            foreach (var field in route.Rpc.InputType.Fields.InDeclarationOrder().Where(f => !pathFields.Contains(f.Name) && f.Name != route.Body && IsQueryable(f)))
                operation.Parameters.Add(new OpenApiParameter { Name = field.JsonName, In = ParameterLocation.Query, Schema = schemas.Field(field) });
        return operation;
    }

    static OpenApiRequestBody Body(IOpenApiSchema schema) => new()
    {
        Required = true,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
    };

    static OpenApiResponse Json(string description, IOpenApiSchema schema) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
    };

    /// <summary>What the transcoder (and the gateway's own endpoints) answer on an error: google.rpc.Status in JSON.</summary>
    static IOpenApiSchema ErrorSchema(OpenApiDocument document)
    {
        const string name = "platform.Error";
        var components = (document.Components ??= new OpenApiComponents()).Schemas ??= new Dictionary<string, IOpenApiSchema>();
        components.TryAdd(name, new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["code"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Description = "the gRPC status code (3 invalid argument, 5 not found, 7 permission denied, 10 aborted, …)" },
                ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                ["details"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.Object }, Description = "google.rpc.BadRequest (field violations), ErrorInfo, PreconditionFailure" },
            },
        });
        return new OpenApiSchemaReference(name, document);
    }

    /// <summary>Scalars, enums and repeated scalars can be given in the query string; messages cannot.</summary>
    static bool IsQueryable(FieldDescriptor field) => !field.IsMap && field.FieldType != FieldType.Message && field.FieldType != FieldType.Group;

    static string RoleNote(string role) => role switch
    {
        "viewer" => " (or operator, admin)",
        "operator" => " (or admin)",
        "agent" => " (a node's or device's agent token, acting for itself)",
        "agent-or-operator" => ": an operator, or the agent the resource belongs to",
        "admin-or-service" => ": an admin, or a platform service carrying out a governance decision",
        _ => "",
    };

    static string ClrName(ServiceDescriptor service) => $"{service.File.GetOptions()?.CsharpNamespace}.{service.Name}";

    /// <summary>ListNodes → "List nodes".</summary>
    static string Humanize(string rpc) => string.Concat(rpc.Select((c, i) => i > 0 && char.IsUpper(c) ? $" {char.ToLowerInvariant(c)}" : $"{c}"));

    /// <summary>
    /// A proxy route's path pattern as a regular expression: <c>{id}</c> matches one segment, a trailing
    /// <c>/{**rest}</c> anything or nothing (ASP.NET's catch-all is optional: <c>/api/nodes/{**rest}</c> serves <c>/api/nodes</c>).
    /// </summary>
    static Regex PatternOf(string path)
    {
        var pattern = new System.Text.StringBuilder("^");
        var parts = RouteToken().Split(path); // literals at even indices, the variables between them
        for (var i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1)
                pattern.Append(parts[i].StartsWith('*') ? ".*" : "[^/]+");
            else if (i + 1 < parts.Length && parts[i + 1].StartsWith('*') && parts[i].EndsWith('/'))
            {
                pattern.Append(Regex.Escape(parts[i][..^1])).Append("(/.*)?");
                i++;
            }
            else
                pattern.Append(Regex.Escape(parts[i]));
        }
        return new Regex(pattern.Append('$').ToString());
    }

    /// <summary>A proto path with each variable filled in, to match it against the proxy's patterns.</summary>
    static string Sample(string path) => PathParameter().Replace(path, "x");

    [GeneratedRegex(@"\{([a-zA-Z0-9_.]+)(?:=[^}]*)?\}")]
    private static partial Regex PathParameter();

    [GeneratedRegex(@"\{([^}]*)\}")]
    private static partial Regex RouteToken();
}
