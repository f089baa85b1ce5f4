using System.Text.Json.Nodes;
using System.Threading.Channels;
using Platform.ServiceDefaults.Observability;

namespace Platform.Gateway.Views;

/// <summary>
/// One of the seeds' push views (a summary every second, node stats every two): composed by this gateway replica once
/// per period for all its listeners, and only while somebody listens. Each listener holds the newest message alone, so a
/// client that reads slowly skips to the current figures and never delays another. A view that sends only changes
/// (<paramref name="onlyChanges"/>) stays quiet while its message is the same.
/// </summary>
public sealed class ViewFeed(string name, TimeSpan period, Func<CancellationToken, Task<JsonObject>> compose, bool onlyChanges, ILogger logger)
{
    readonly Lock gate = new();
    readonly HashSet<Channel<byte[]>> listeners = [];
    readonly SemaphoreSlim composing = new(1, 1);
    readonly LogThrottle failures = new(TimeSpan.FromSeconds(10));
    CancellationTokenSource? running;
    (byte[] Message, long At)? latest;

    public string Name => name;

    /// <summary>A new listener: it gets the newest message at once (when there is one), then each new one.</summary>
    public ChannelReader<byte[]> Listen()
    {
        var listener = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (gate)
        {
            listeners.Add(listener);
            if (latest is { } newest) listener.Writer.TryWrite(newest.Message);
            if (running is null)
            {
                running = new CancellationTokenSource();
                var stopping = running.Token;
                _ = Task.Run(() => RunAsync(stopping), CancellationToken.None); // composing never runs under the lock
            }
        }
        return listener.Reader;
    }

    public void Leave(ChannelReader<byte[]> reader)
    {
        lock (gate)
        {
            listeners.RemoveWhere(l => l.Reader == reader);
            if (listeners.Count > 0 || running is null) return;
            running.Cancel(); // not disposed: the loop may still be reading its token
            running = null;
        }
    }

    /// <summary>The view now, for a REST read: the newest message if it is younger than the period, else composed now (once for all who ask).</summary>
    public async Task<byte[]> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Fresh() is { } fresh) return fresh;
        await composing.WaitAsync(cancellationToken);
        try
        {
            return Fresh() ?? await ComposeAsync(cancellationToken);
        }
        finally
        {
            composing.Release();
        }
    }

    byte[]? Fresh()
    {
        lock (gate) return latest is { } newest && Environment.TickCount64 - newest.At < period.TotalMilliseconds ? newest.Message : null;
    }

    async Task<byte[]> ComposeAsync(CancellationToken cancellationToken)
    {
        var message = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(await compose(cancellationToken));
        lock (gate)
        {
            var changed = latest is not { } previous || !previous.Message.AsSpan().SequenceEqual(message);
            latest = (message, Environment.TickCount64);
            if (changed || !onlyChanges)
                foreach (var listener in listeners) listener.Writer.TryWrite(message);
        }
        return message;
    }

    async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            do
            {
                await composing.WaitAsync(stopping);
                try
                {
                    await ComposeAsync(stopping);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && !stopping.IsCancellationRequested)
                {
                    if (failures.Allows()) logger.LogWarning(ex, "Composing the {View} view failed", name);
                }
                finally
                {
                    composing.Release();
                }
            }
            while (await timer.WaitForNextTickAsync(stopping));
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }
}
