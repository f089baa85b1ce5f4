using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Grpc;

namespace Platform.ServiceDefaults.Tests;

/// <summary>
/// A peer that stops answering without closing the connection (a frozen host, a half-open TCP connection) fails the
/// calls on it: HTTP/2 pings that go unanswered end a stream within half a minute, a unary call ends at its deadline.
/// </summary>
public sealed class KeepAliveTests
{
    /// <summary>Accepts connections, reads what comes, answers nothing.</summary>
    static (int Port, TcpListener Listener) BlackHole()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                var socket = await listener.AcceptSocketAsync();
                _ = Task.Run(async () =>
                {
                    var buffer = new byte[4096];
                    try { while (await socket.ReceiveAsync(buffer) > 0) { } } catch (SocketException) { }
                });
            }
        });
        return (((IPEndPoint)listener.LocalEndpoint).Port, listener);
    }

    static WorkloadAssignments.WorkloadAssignmentsClient Client(int port)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["services:compute:grpc:0"] = $"http://127.0.0.1:{port}" });
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http => http.AddServiceDiscovery());
        builder.Services.AddSingleton(new AuthSettings());
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ProcessCredential>();
        builder.AddPlatformGrpcClient<WorkloadAssignments.WorkloadAssignmentsClient>("compute", streaming: true);
        return builder.Build().Services.GetRequiredService<WorkloadAssignments.WorkloadAssignmentsClient>();
    }

    [Fact]
    public async Task A_stream_to_a_peer_that_went_silent_fails_within_half_a_minute_and_a_unary_call_at_its_deadline()
    {
        var (port, listener) = BlackHole();
        using var _ = listener;
        var client = Client(port);

        using var watch = client.WatchAssignments(new ListAssignmentsRequest { NodeId = Guid.NewGuid().ToString() });
        var streamed = watch.ResponseStream.MoveNext(CancellationToken.None);
        var unary = client.ListAssignmentsAsync(new ListAssignmentsRequest(), deadline: DateTime.UtcNow.AddSeconds(2)).ResponseAsync;

        var finished = await Task.WhenAny(Task.WhenAll(streamed, unary).ContinueWith(_ => { }), Task.Delay(TimeSpan.FromSeconds(90)));
        Assert.True(streamed.IsFaulted && unary.IsFaulted, "both calls ended with an error, not a hang");
        Assert.Equal(StatusCode.DeadlineExceeded, Assert.IsType<RpcException>(unary.Exception!.InnerException).StatusCode);
        // Without pings the stream would wait for ever: the connection it was on was ended for an unanswered ping.
        Assert.Contains(Assert.IsType<RpcException>(streamed.Exception!.InnerException).StatusCode, (StatusCode[])[StatusCode.Unavailable, StatusCode.Internal]);
    }
}
