using Google.Rpc;
using Grpc.Core;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// Collects every field violation of a request, then fails once with InvalidArgument and a google.rpc.BadRequest,
/// which transcoding turns into a 400 naming each field and why.
/// </summary>
public sealed class RequestValidation
{
    readonly List<BadRequest.Types.FieldViolation> violations = [];

    public RequestValidation Require(bool condition, string field, string reason)
    {
        if (!condition)
            violations.Add(new() { Field = field, Description = reason });
        return this;
    }

    public bool IsValid => violations.Count == 0;

    /// <summary>The UUID in <paramref name="value"/>, or InvalidArgument naming <paramref name="field"/>.</summary>
    public static Guid RequireGuid(string value, string field)
    {
        if (Guid.TryParse(value, out var id)) return id;
        new RequestValidation().Require(false, field, "must be a UUID").ThrowIfInvalid();
        return default;
    }

    public void ThrowIfInvalid()
    {
        if (IsValid) return;
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations);
        var message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}"));
        throw new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = message,
            Details = { Google.Protobuf.WellKnownTypes.Any.Pack(badRequest) },
        }.ToRpcException();
    }
}
