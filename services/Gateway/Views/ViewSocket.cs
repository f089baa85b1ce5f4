using System.Net.WebSockets;
using Platform.Gateway.Realtime;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Views;

/// <summary>
/// A WebSocket that pushes one view's messages (the seeds' <c>/ws/metrics</c> and the like): the same door as
/// <c>/ws/realtime</c> — token checked before the upgrade, users only, the same per-user connection cap — then each new
/// message of the feed as a text frame. The client sends nothing but its close; the socket ends when the token does.
/// </summary>
public static class ViewSocket
{
    const int MaxIncomingMessage = 4 * 1024;

    public static async Task<IResult> ServeAsync(HttpContext context, ViewFeed feed, RealtimeHub hub, TimeProvider clock, ILogger logger)
    {
        if (LiveDoor.Refusal(context, hub) is { } refusal) return refusal;
        var user = Callers.Name(context.User);
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            var expiresIn = LiveDoor.Expiry(context) is { } expiry ? expiry - clock.GetUtcNow() : (TimeSpan?)null;
            if (expiresIn is { } left) ending.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            var listener = feed.Listen();
            try
            {
                var reading = ReadUntilCloseAsync(socket, ending);
                await foreach (var message in listener.ReadAllAsync(ending.Token))
                {
                    using var sendLimit = CancellationTokenSource.CreateLinkedTokenSource(ending.Token);
                    sendLimit.CancelAfter(hub.Options.SendTimeout);
                    await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, sendLimit.Token);
                }
                await reading;
            }
            catch (OperationCanceledException) when (ending.IsCancellationRequested || context.RequestAborted.IsCancellationRequested)
            {
                if (!context.RequestAborted.IsCancellationRequested && expiresIn is not null && socket.State == WebSocketState.Open)
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.PolicyViolation, "the token expired: connect again with a fresh one");
            }
            catch (OperationCanceledException)
            {
                logger.LogInformation("A {View} client of {User} left a message unread for {Timeout}: closed", feed.Name, user, hub.Options.SendTimeout);
                socket.Abort();
            }
            catch (WebSocketException)
            {
                // The client went away.
            }
            finally
            {
                feed.Leave(listener);
            }
        }
        finally
        {
            hub.Release(user);
        }
        return Results.Empty;
    }

    /// <summary>Reads (and ignores) what the client sends until its close, which it answers; a message too big closes the socket.</summary>
    static async Task ReadUntilCloseAsync(WebSocket socket, CancellationTokenSource ending)
    {
        var buffer = new byte[MaxIncomingMessage];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, ending.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.NormalClosure, "");
                    break;
                }
                if (!received.EndOfMessage)
                {
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.MessageTooBig, "this view takes no messages");
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            await ending.CancelAsync();
        }
    }

    static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(status, reason, limit.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
