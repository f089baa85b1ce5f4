using System.Security.Cryptography;

namespace Platform.Onion;

/// <summary>SENDME flow control (tor-spec §7.4): circuit window 1000, SENDME every 100; stream window 500, every 50.</summary>
public static class FlowWindows
{
    public const int CircuitWindow = 1000;
    public const int CircuitIncrement = 100;
    public const int StreamWindow = 500;
    public const int StreamIncrement = 50;
}

/// <summary>
/// The sender's side: how many DATA cells may still go out. Each SENDME reopens one increment, and only for an
/// increment actually sent; an authenticated window also wants the tag of the cell that closed that increment, so a
/// peer cannot acknowledge cells it never received (tor-spec's authenticated SENDMEs, prop289).
/// </summary>
public sealed class PackageWindow(int window, int increment, bool authenticated) : IDisposable
{
    readonly SemaphoreSlim slots = new(window, window);
    readonly Queue<byte[]> expected = new();
    readonly Lock gate = new();
    long sent;
    long owed;

    public Task WaitAsync(CancellationToken cancellationToken) => slots.WaitAsync(cancellationToken);

    /// <summary>Records a DATA cell sent (after <see cref="WaitAsync"/>), with its tag when the window is authenticated.</summary>
    public void Sent(byte[]? tag)
    {
        lock (gate)
        {
            if (++sent % increment != 0) return;
            owed++;
            if (authenticated) expected.Enqueue(tag ?? throw new ArgumentNullException(nameof(tag)));
        }
    }

    /// <summary>A SENDME arrived: false when nothing was owed or its tag is not the one expected (a protocol violation).</summary>
    public bool Acknowledge(byte[]? tag)
    {
        lock (gate)
        {
            if (owed == 0) return false;
            if (authenticated && (tag is null || !CryptographicOperations.FixedTimeEquals(expected.Peek(), tag))) return false;
            owed--;
            if (authenticated) expected.Dequeue();
        }
        slots.Release(increment);
        return true;
    }

    public void Dispose() => slots.Dispose();
}

/// <summary>The receiver's side: counts DATA cells and says when to send a SENDME; more than the window unacknowledged is a violation.</summary>
public sealed class DeliverWindow(int size, int increment)
{
    readonly int window = size;
    int remaining = size;

    /// <summary>False when the sender overran the window. <paramref name="sendmeDue"/> is set when an increment was completed.</summary>
    public bool Receive(out bool sendmeDue)
    {
        sendmeDue = false;
        if (--remaining < 0) return false;
        if (remaining <= window - increment)
        {
            remaining += increment;
            sendmeDue = true;
        }
        return true;
    }
}
