using System.Net.WebSockets;

namespace Platform.Gateway.Realtime;

/// <summary>
/// What waits to go out to one client, bounded: when full, the oldest message goes and is counted, and the client gets
/// <c>{"type": "dropped", "count"}</c> before the next one. Sending starts on the thread that queues a message and
/// goes on there while the socket takes each send at once (the common case: the hub's one thread writes an event to
/// every client without a hop per client); a client whose send has to wait continues on its own, and how long it has
/// waited is what the hub's watchdog reads (<see cref="Stalled"/>).
/// </summary>
public sealed class OutgoingQueue(WebSocket socket, int capacity)
{
    readonly Lock gate = new();
    readonly Queue<byte[]> queue = new();
    long dropped;
    bool sending;
    bool closed;
    long waitingSince; // Environment.TickCount64 when a send started waiting; 0 while none waits

    public void Add(byte[] message)
    {
        lock (gate)
        {
            if (closed) return;
            if (queue.Count >= capacity)
            {
                queue.Dequeue();
                dropped++;
            }
            queue.Enqueue(message);
            if (sending) return;
            sending = true;
        }
        _ = PumpAsync();
    }

    /// <summary>How long the send in flight has waited for the client to read (zero when none waits).</summary>
    public TimeSpan Stalled => Volatile.Read(ref waitingSince) is var since and not 0 ? TimeSpan.FromMilliseconds(Environment.TickCount64 - since) : TimeSpan.Zero;

    public void Close()
    {
        lock (gate)
        {
            closed = true;
            queue.Clear();
        }
    }

    async Task PumpAsync()
    {
        try
        {
            while (true)
            {
                byte[] next;
                lock (gate)
                {
                    if (closed || queue.Count == 0 && dropped == 0)
                    {
                        sending = false;
                        return;
                    }
                    if (dropped > 0) (next, dropped) = (RealtimeMessages.Dropped(dropped), 0);
                    else next = queue.Dequeue();
                }
                var send = socket.SendAsync(next, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                if (send.IsCompletedSuccessfully)
                {
                    send.GetAwaiter().GetResult();
                    continue;
                }
                Volatile.Write(ref waitingSince, Environment.TickCount64);
                await send;
                Volatile.Write(ref waitingSince, 0);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or IOException)
        {
            Close();
            Volatile.Write(ref waitingSince, 0);
            socket.Abort();
        }
    }
}
