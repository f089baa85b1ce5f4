using Google.Protobuf.Reflection;
using Google.Rpc;
using Grpc.AspNetCore.Server;
using Grpc.Net.ClientFactory;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.ServiceDefaults.Auth;

namespace Platform.ServiceDefaults.Grpc;

/// <summary>gRPC servers with JSON transcoding and one error mapping, and gRPC clients found through service discovery.</summary>
public static class GrpcExtensions
{
    public static IGrpcServerBuilder AddPlatformGrpc(this IHostApplicationBuilder builder) =>
        builder.Services
            .AddGrpc(options =>
            {
                options.EnableDetailedErrors = builder.Environment.IsDevelopment();
                options.Interceptors.Add<DomainExceptionInterceptor>();
            })
            .AddJsonTranscoding(options =>
            {
                // proto3 JSON: 64-bit integers as strings, so a browser never rounds a token amount.
                options.JsonSettings = new GrpcJsonSettings { WriteInt64sAsStrings = true };
                // Error details (field violations) travel as google.protobuf.Any: the transcoder must know their types.
                options.TypeRegistry = TypeRegistry.FromMessages(BadRequest.Descriptor, ErrorInfo.Descriptor, PreconditionFailure.Descriptor);
            });

    /// <summary>
    /// Registers <typeparamref name="TClient"/> against <c>http://_grpc.{service}</c>, resolved by service discovery,
    /// carrying the process's own token (<see cref="ProcessCredential"/>) when it has one. Streaming clients get no resilience
    /// handler: its timeouts would cut long streams.
    /// </summary>
    public static IHttpClientBuilder AddPlatformGrpcClient<TClient>(this IHostApplicationBuilder builder, string service, bool streaming = false)
        where TClient : class
    {
        var client = builder.Services
            .AddGrpcClient<TClient>(options => options.Address = new Uri($"http://_grpc.{service}"))
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // HTTP/2 pings on every connection, busy or idle: a peer that vanished without closing (a half-open
                // connection, a frozen host) fails the calls on it within 25 s instead of wedging them for the kernel's
                // TCP timeout of a quarter of an hour.
                KeepAlivePingDelay = TimeSpan.FromSeconds(15),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
                EnableMultipleHttp2Connections = true,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            })
            .AddHttpMessageHandler(services => new BearerTokenHandler(services.GetRequiredService<ProcessCredential>()));
        if (!streaming)
            client.AddStandardResilienceHandler();
        return client;
    }
}

/// <summary>
/// The deadline of a unary call to another service: a client registered for streaming has no resilience handler (its
/// timeouts would cut the streams), so its unary calls carry this instead.
/// </summary>
public static class CallDeadlines
{
    public static readonly TimeSpan Unary = TimeSpan.FromSeconds(15);

    public static DateTime FromNow() => DateTime.UtcNow + Unary;
}

/// <summary>
/// Adds <c>Authorization: Bearer</c> with this process's own token for <paramref name="audience"/> to outgoing calls
/// when it has one.
/// </summary>
public sealed class BearerTokenHandler(ProcessCredential credential, string audience = PlatformTokens.Audience) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null && await credential.TokenAsync(cancellationToken, audience) is { } token)
            request.Headers.Authorization = new("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized) credential.Invalidate(audience);
        return response;
    }
}
