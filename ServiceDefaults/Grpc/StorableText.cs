using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// Text PostgreSQL cannot store: a NUL character (U+0000), which no <c>text</c> or <c>jsonb</c> value may hold. A request
/// carrying one anywhere — a field, a list, a map's key or value, a nested message — is refused naming the field,
/// before any handler runs, instead of failing halfway through a transaction with a server error.
/// </summary>
public static class StorableText
{
    public static void Ensure(IMessage message, string prefix = "")
    {
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var name = prefix + field.Name;
            var value = field.Accessor.GetValue(message);
            if (field.IsMap)
            {
                foreach (System.Collections.DictionaryEntry entry in (System.Collections.IDictionary)value)
                {
                    Check(entry.Key, $"{name}[{entry.Key}]");
                    Check(entry.Value, $"{name}[{entry.Key}]");
                }
            }
            else if (field.IsRepeated)
            {
                var i = 0;
                foreach (var item in (System.Collections.IEnumerable)value) Check(item, $"{name}[{i++}]");
            }
            else if (field.FieldType == FieldType.Message && value is IMessage nested) Ensure(nested, name + ".");
            else Check(value, name);
        }
    }

    static void Check(object? value, string field)
    {
        if (value is string text && text.Contains('\0'))
            throw new InvalidFieldException(field, "must not contain NUL characters");
        if (value is IMessage nested) Ensure(nested, field + ".");
    }
}
