using System.Security.Claims;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Platform.TestSupport;

/// <summary>
/// A <see cref="ServerCallContext"/> for calling a gRPC service class directly, as grpc-dotnet's testing examples do:
/// the caller is <paramref name="user"/> (with the role given), reached through <c>GetHttpContext()</c> like in a real call.
/// </summary>
public sealed class TestServerCallContext(string user = "tester", string role = "operator", CancellationToken cancellationToken = default) : ServerCallContext
{
    // grpc-dotnet's GetHttpContext() reads the HttpContext from this UserState key.
    const string HttpContextKey = "__HttpContext";

    readonly Dictionary<object, object> userState = new()
    {
        [HttpContextKey] = new DefaultHttpContext
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", user), new Claim("role", role)], "test", "sub", "role")),
        },
    };

    protected override string MethodCore => "/test/Method";
    protected override string HostCore => "localhost";
    protected override string PeerCore => "ipv4:127.0.0.1:5000";
    protected override DateTime DeadlineCore => DateTime.MaxValue;
    protected override Metadata RequestHeadersCore { get; } = [];
    protected override CancellationToken CancellationTokenCore => cancellationToken;
    protected override Metadata ResponseTrailersCore { get; } = [];
    protected override Status StatusCore { get; set; }
    protected override WriteOptions? WriteOptionsCore { get; set; }
    protected override AuthContext AuthContextCore => new(null, []);
    protected override IDictionary<object, object> UserStateCore => userState;

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) => throw new NotSupportedException();
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
}
