using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Platform.Gateway.Docs;

/// <summary>The gateway's own endpoints in the document: the bearer scheme and role each requires, read from its authorization metadata.</summary>
public sealed class GatewayEndpointRoles : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        if (metadata.OfType<IAllowAnonymous>().Any() || !metadata.OfType<IAuthorizeData>().Any()) return Task.CompletedTask;
        var role = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null) ?? "any signed-in caller";
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ServiceRoutesDocument.BearerScheme, context.Document)] = [] }];
        (operation.Extensions ??= new Dictionary<string, IOpenApiExtension>())["x-platform-role"] = new JsonNodeExtension(JsonValue.Create(role));
        operation.Description = $"{operation.Description}{(operation.Description is { Length: > 0 } ? "\n\n" : "")}Requires the **{role}** role.";
        return Task.CompletedTask;
    }
}
