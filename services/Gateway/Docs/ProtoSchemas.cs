using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using Microsoft.OpenApi;

namespace Platform.Gateway.Docs;

/// <summary>
/// JSON Schemas of proto messages as proto3's JSON mapping writes them (what the transcoder sends): camelCase names,
/// 64-bit integers as strings, enums by name, maps as objects, well-known types in their JSON forms. Each message is
/// one component schema, named by its full proto name, described by its comments.
/// </summary>
public sealed class ProtoSchemas(OpenApiDocument document, ProtoComments comments)
{
    IDictionary<string, IOpenApiSchema> Components => (document.Components ??= new OpenApiComponents()).Schemas ??= new Dictionary<string, IOpenApiSchema>();

    /// <summary>A reference to <paramref name="message"/>'s schema (added to the components on first use), or its inline form for a well-known type.</summary>
    public IOpenApiSchema For(MessageDescriptor message)
    {
        if (WellKnown(message) is { } known) return known;
        if (!Components.ContainsKey(message.FullName))
        {
            Components[message.FullName] = new OpenApiSchema(); // placeholder first: messages may refer to themselves
            Components[message.FullName] = Object(message, except: []);
        }
        return new OpenApiSchemaReference(message.FullName, document);
    }

    /// <summary><paramref name="message"/> without the fields a route binds from its path (a request body).</summary>
    public IOpenApiSchema Without(MessageDescriptor message, IReadOnlyCollection<string> pathFields) =>
        pathFields.Count == 0 ? For(message) : Object(message, pathFields);

    /// <summary>The schema of one field, with its comment.</summary>
    public IOpenApiSchema Field(FieldDescriptor field)
    {
        var schema = field.IsMap
            ? new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = Single(field.MessageType.FindFieldByNumber(2)) }
            : field.IsRepeated ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = Single(field) } : Single(field);
        if (Comment(field) is not { } description) return schema;
        return schema switch
        {
            OpenApiSchema own => WithDescription(own, description),
            _ => new OpenApiSchema { AllOf = [schema], Description = description }, // a reference keeps its own description
        };
    }

    static OpenApiSchema WithDescription(OpenApiSchema schema, string description)
    {
        schema.Description = description;
        return schema;
    }

    OpenApiSchema Object(MessageDescriptor message, IReadOnlyCollection<string> except)
    {
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = message.ClrType is { } type ? comments.OfType(DocName(type)) : null,
            Properties = new Dictionary<string, IOpenApiSchema>(),
        };
        foreach (var field in message.Fields.InDeclarationOrder().Where(f => !except.Contains(f.Name)))
            schema.Properties[field.JsonName] = Field(field);
        return schema;
    }

    IOpenApiSchema Single(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Bool => new OpenApiSchema { Type = JsonSchemaType.Boolean },
        FieldType.String => new OpenApiSchema { Type = JsonSchemaType.String },
        FieldType.Bytes => new OpenApiSchema { Type = JsonSchemaType.String, Format = "byte" },
        FieldType.Double or FieldType.Float => new OpenApiSchema { Type = JsonSchemaType.Number, Format = field.FieldType == FieldType.Double ? "double" : "float" },
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
        FieldType.UInt32 or FieldType.Fixed32 => new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" },
        // proto3 JSON: 64-bit integers travel as decimal strings, so no client rounds them.
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => new OpenApiSchema { Type = JsonSchemaType.String, Format = "int64", Pattern = "^-?[0-9]+$" },
        FieldType.UInt64 or FieldType.Fixed64 => new OpenApiSchema { Type = JsonSchemaType.String, Format = "uint64", Pattern = "^[0-9]+$" },
        FieldType.Enum => new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. field.EnumType.Values.Select(v => (JsonNode)JsonValue.Create(v.Name)!)] },
        _ => For(field.MessageType),
    };

    string? Comment(FieldDescriptor field) =>
        field.ContainingType.ClrType is { } type ? comments.OfProperty(DocName(type), field.PropertyName) : null;

    /// <summary>A type's name as XML docs write it: nested types joined with a dot.</summary>
    static string DocName(Type type) => type.FullName!.Replace('+', '.');

    static OpenApiSchema? WellKnown(MessageDescriptor message) => message.FullName switch
    {
        "google.protobuf.Timestamp" => new() { Type = JsonSchemaType.String, Format = "date-time" },
        "google.protobuf.Duration" => new() { Type = JsonSchemaType.String, Pattern = "^-?[0-9]+(\\.[0-9]+)?s$", Description = "seconds with an s, e.g. 1.5s" },
        "google.protobuf.Struct" => new() { Type = JsonSchemaType.Object },
        "google.protobuf.Value" => new(),
        "google.protobuf.ListValue" => new() { Type = JsonSchemaType.Array },
        "google.protobuf.Empty" => new() { Type = JsonSchemaType.Object },
        "google.protobuf.FieldMask" => new() { Type = JsonSchemaType.String },
        "google.protobuf.Any" => new() { Type = JsonSchemaType.Object, Description = "a message of the type named by its @type" },
        "google.protobuf.StringValue" => new() { Type = JsonSchemaType.String },
        "google.protobuf.BoolValue" => new() { Type = JsonSchemaType.Boolean },
        "google.protobuf.Int32Value" or "google.protobuf.UInt32Value" => new() { Type = JsonSchemaType.Integer },
        "google.protobuf.Int64Value" or "google.protobuf.UInt64Value" => new() { Type = JsonSchemaType.String, Format = "int64" },
        "google.protobuf.DoubleValue" or "google.protobuf.FloatValue" => new() { Type = JsonSchemaType.Number },
        "google.protobuf.BytesValue" => new() { Type = JsonSchemaType.String, Format = "byte" },
        _ => null,
    };
}
