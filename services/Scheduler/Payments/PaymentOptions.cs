namespace Platform.Scheduler.Payments;

/// <summary>
/// Whether jobs are paid for in tokens (<c>Scheduler:Payments</c>). Off by default: users then need tokens before
/// their jobs run. On, each placement reserves the job's price at its node's <c>price-per-core-hour</c> (the same
/// price the cost objective weighs) for its maximum runtime, and the run posts what it used.
/// </summary>
public sealed class PaymentOptions
{
    public bool Enabled { get; set; }
    /// <summary>The ledger's units in one token (prices are in tokens per core-hour).</summary>
    public long UnitsPerToken { get; set; } = 1_000_000;
    /// <summary>What a job with neither a maximum nor an estimated runtime is reserved for.</summary>
    public TimeSpan DefaultReservation { get; set; } = TimeSpan.FromHours(1);
}
