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

/// <summary>
/// The receiver's side at circuit level: a SENDME for every <c>increment</c> DATA cells received, as Tor acknowledges
/// circuit cells on receipt. Streams acknowledge on delivery instead (to the destination, or to the reader), so a slow
/// destination pushes back on its sender; see ExitStream and OnionStream.
/// </summary>
public sealed class DeliverWindow(int increment)
{
    int received;

    /// <summary>True when this cell completes an increment: a SENDME is due.</summary>
    public bool Receive() => ++received % increment == 0;
}
