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
            // Two tokens: the client's close or a failed read ends the sending (closed), and the token's expiry ends it
            // too (expired) — without cancelling the pending read, which would abort the socket before the 1008.
            using var closed = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            using var expired = new CancellationTokenSource();
            if (LiveDoor.Expiry(context) is { } expiry) expired.CancelAfter(Max(expiry - clock.GetUtcNow(), TimeSpan.Zero));
            using var sending = CancellationTokenSource.CreateLinkedTokenSource(closed.Token, expired.Token);
            var listener = feed.Listen();
            var reading = ReadUntilCloseAsync(socket, closed);
            try
            {
                await foreach (var message in listener.ReadAllAsync(sending.Token))
                {
                    using var sendLimit = CancellationTokenSource.CreateLinkedTokenSource(sending.Token);
                    sendLimit.CancelAfter(hub.Options.SendTimeout);
                    try
                    {
                        await socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, sendLimit.Token);
                    }
                    catch (OperationCanceledException) when (!sending.IsCancellationRequested)
                    {
                        logger.LogInformation("A {View} client of {User} left a message unread for {Timeout}: closed", feed.Name, user, hub.Options.SendTimeout);
                        socket.Abort();
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (sending.IsCancellationRequested)
            {
                if (expired.IsCancellationRequested && socket.State == WebSocketState.Open)
                    await CloseQuietlyAsync(socket, WebSocketCloseStatus.PolicyViolation, "the token expired: connect again with a fresh one");
            }
            catch (WebSocketException)
            {
                // The client went away.
            }
            finally
            {
                feed.Leave(listener);
                if (socket.State == WebSocketState.CloseSent) await Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2))); // the client answers our close
                if (socket.State is not (WebSocketState.Closed or WebSocketState.Aborted)) socket.Abort();
                await reading; // ends with the socket; never throws
            }
        }
        finally
        {
            hub.Release(user);
        }
        return Results.Empty;
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>
    /// Reads (and ignores) what the client sends until its close, which it answers; a message too big closes the socket.
    /// Whatever ends it, <paramref name="closed"/> is cancelled so the sending stops; it never throws.
    /// </summary>
    static async Task ReadUntilCloseAsync(WebSocket socket, CancellationTokenSource closed)
    {
        var buffer = new byte[MaxIncomingMessage];
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None); // ends when the socket does
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
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            try { closed.Cancel(); } catch (ObjectDisposedException) { }
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
