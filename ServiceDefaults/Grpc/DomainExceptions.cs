using Grpc.Core;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// A failure the caller can act on, thrown where the rule lives (a store under its row lock, a request rule) and
/// turned into its gRPC status — with a google.rpc.ErrorInfo naming <see cref="Reason"/> and <see cref="Metadata"/> —
/// by <see cref="DomainExceptionInterceptor"/>, the one place that maps errors. Transcoding makes the status an HTTP one.
/// </summary>
public abstract class DomainException(StatusCode code, string reason, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    /// <summary>ErrorInfo's reason: UPPER_SNAKE_CASE, stable, what a client switches on.</summary>
    public string Reason { get; } = reason;

    /// <summary>What the caller needs to decide what to do next (the current state, the actions it allows).</summary>
    public virtual IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>();
}

/// <summary>The request conflicts with the current state of what it acts on: ABORTED, HTTP 409.</summary>
public class ConflictException(string reason, string message) : DomainException(StatusCode.Aborted, reason, message);

/// <summary>Something with the same identity exists already: ALREADY_EXISTS, HTTP 409.</summary>
public class DuplicateException(string reason, string message) : DomainException(StatusCode.AlreadyExists, reason, message);

/// <summary>No room for the request (capacity, quota): RESOURCE_EXHAUSTED, HTTP 429.</summary>
public class NoRoomException(string reason, string message) : DomainException(StatusCode.ResourceExhausted, reason, message);

/// <summary>
/// A field's value that only the current data shows to be wrong (a migration's target that is the workload's own
/// node): INVALID_ARGUMENT, HTTP 400, with a google.rpc.BadRequest naming the field, like <see cref="RequestValidation"/>.
/// </summary>
public class InvalidFieldException(string field, string description) : DomainException(StatusCode.InvalidArgument, "INVALID_FIELD", $"{field}: {description}")
{
    public string Field { get; } = field;
    public string Description { get; } = description;
}
