using System.Net;
using System.Net.Http.Json;

namespace Platform.Gateway.Tests;

/// <summary>Per-account throttling: growing waits after failures, a 429 with Retry-After, concurrent guesses bounded, an admin unlock.</summary>
public sealed class LockoutTests : IAsyncLifetime
{
    GatewayHost gateway = null!;

    // A first wait long enough that no loaded machine lets it pass between two requests of a test.
    public async Task InitializeAsync() => gateway = await GatewayHost.StartAsync(new Dictionary<string, string> { ["Gateway:Auth:LoginFirstWait"] = "00:01:00" });

    public async Task DisposeAsync() => await gateway.DisposeAsync();

    Task<HttpResponseMessage> AttemptAsync(string username, string password) =>
        gateway.Anonymous().PostAsJsonAsync("/api/auth/login", new { username, password });

    [Fact]
    public async Task After_repeated_failures_even_the_right_password_waits_and_an_admin_can_lift_the_lock()
    {
        (await gateway.UserAsync("lena", "viewer")).Dispose();
        var first = await AttemptAsync("lena", "wrong password 1");
        var second = await AttemptAsync("lena", "wrong password 2");
        var third = await AttemptAsync("lena", "wrong password 3");
        using var locked = await AttemptAsync("lena", "a long enough password");

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], [first.StatusCode, second.StatusCode, third.StatusCode]);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.InRange(int.Parse(locked.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Contains("too many failed logins", await locked.Content.ReadAsStringAsync());

        using var admin = await gateway.AdminAsync();
        using var unlock = await admin.PostAsync("/api/auth/users/lena/unlock", null);
        using var afterUnlock = await AttemptAsync("lena", "a long enough password");
        Assert.Equal(HttpStatusCode.NoContent, unlock.StatusCode);
        Assert.Equal(HttpStatusCode.OK, afterUnlock.StatusCode);
    }

    [Fact]
    public async Task Concurrent_guesses_get_only_a_few_tries_and_unknown_accounts_are_throttled_alike()
    {
        foreach (var username in new[] { "admin", "no-such-user" })
        {
            var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => AttemptAsync(username, $"guess number {i}")));
            Assert.True(results.Count(r => r.StatusCode == HttpStatusCode.Unauthorized) <= 3, username);
            Assert.Contains(results, r => r.StatusCode == HttpStatusCode.TooManyRequests);
            Assert.DoesNotContain(results, r => r.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests));
        }
    }
}
