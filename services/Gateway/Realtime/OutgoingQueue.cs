using System.Net.WebSockets;

namespace Platform.Gateway.Realtime;

/// <summary>
/// What waits to go out to one client, bounded in messages and bytes: when full, the oldest message goes and is
/// counted, and the client gets <c>{"type": "dropped", "count"}</c> before the next one. Sending starts on the thread that queues a message and
/// goes on there while the socket takes each send at once (the common case: the hub's one thread writes an event to
/// every client without a hop per client); a client whose send has to wait continues on its own, and how long it has
/// waited is what the hub's watchdog reads (<see cref="Stalled"/>).
/// </summary>
public sealed class OutgoingQueue(WebSocket socket, int capacity, long capacityBytes)
{
    readonly Lock gate = new();
    readonly Queue<byte[]> queue = new();
    long bytes;
    long dropped;
    bool sending;
    bool closed;
    long waitingSince; // Environment.TickCount64 when a send started waiting; 0 while none waits

    /// <summary>
    /// Queues a message (the oldest go while the queue is over its count or its bytes); true when nothing is sending,
    /// so the caller must <see cref="Send"/> — once it holds no lock of its own, since sending may write at once.
    /// </summary>
    public bool Add(byte[] message)
    {
        lock (gate)
        {
            if (closed) return false;
            queue.Enqueue(message);
            bytes += message.Length;
            while (queue.Count > capacity || bytes > capacityBytes && queue.Count > 1)
            {
                bytes -= queue.Dequeue().Length;
                dropped++;
            }
            if (sending) return false;
            sending = true;
            return true;
        }
    }

    /// <summary>Sends what is queued, on this thread while the socket takes each message at once.</summary>
    public void Send() => _ = PumpAsync();

    /// <summary>How long the send in flight has waited for the client to read (zero when none waits).</summary>
    public TimeSpan Stalled => Volatile.Read(ref waitingSince) is var since and not 0 ? TimeSpan.FromMilliseconds(Environment.TickCount64 - since) : TimeSpan.Zero;

    public void Close()
    {
        lock (gate)
        {
            closed = true;
            queue.Clear();
            bytes = 0;
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
                    else bytes -= (next = queue.Dequeue()).Length;
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
