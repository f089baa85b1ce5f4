namespace Platform.TestSupport;

/// <summary>
/// Waits for something another process or thread does (an event delivered, a process started): polls a condition until
/// it holds, failing with the description after a generous limit. Not a timing assertion: the limit only ends a test
/// that would otherwise hang.
/// </summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, string? what = null, TimeSpan? limit = null) =>
        await HoldsAsync(() => Task.FromResult(condition()), what, limit);

    public static async Task HoldsAsync(Func<Task<bool>> condition, string? what = null, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Still not true after {(limit ?? TimeSpan.FromSeconds(30)).TotalSeconds:F0} s: {what ?? "condition"}");
            await Task.Delay(20);
        }
    }
}
