using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>
/// Maps every <see cref="DomainException"/> a service throws to its gRPC status, with a google.rpc.ErrorInfo
/// (domain <c>{service}.platform</c>) and, for a bad field, a google.rpc.BadRequest. A request message holding text
/// the database cannot store is refused before the handler runs (<see cref="StorableText"/>), and a value PostgreSQL
/// still refuses as data (SQLSTATE class 22: out of range, invalid text) is INVALID_ARGUMENT, not a server error.
/// Anything else passes through untouched: an unexpected exception stays Unknown/500 and is logged by the host.
/// </summary>
public sealed class DomainExceptionInterceptor(IHostEnvironment environment) : Interceptor
{
    readonly string domain = $"{environment.ApplicationName.ToLowerInvariant()}.platform";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            if (request is Google.Protobuf.IMessage message) StorableText.Ensure(message);
            return await continuation(request, context);
        }
        catch (DomainException ex)
        {
            throw ToRpcException(ex, domain);
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            throw ToRpcException(new InvalidFieldException("request", $"holds a value the database cannot store ({ex.MessageText})"), domain);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            if (request is Google.Protobuf.IMessage message) StorableText.Ensure(message);
            await continuation(request, responseStream, context);
        }
        catch (DomainException ex)
        {
            throw ToRpcException(ex, domain);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (DomainException ex)
        {
            throw ToRpcException(ex, domain);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (DomainException ex)
        {
            throw ToRpcException(ex, domain);
        }
    }

    public static RpcException ToRpcException(DomainException ex, string domain)
    {
        var info = new ErrorInfo { Reason = ex.Reason, Domain = domain };
        foreach (var (key, value) in ex.Metadata) info.Metadata[key] = value;
        var status = new Google.Rpc.Status { Code = (int)ex.Code, Message = ex.Message, Details = { Any.Pack(info) } };
        if (ex is InvalidFieldException field)
            status.Details.Add(Any.Pack(new BadRequest { FieldViolations = { new BadRequest.Types.FieldViolation { Field = field.Field, Description = field.Description } } }));
        return status.ToRpcException();
    }
}
