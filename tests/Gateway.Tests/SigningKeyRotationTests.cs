using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Platform.Gateway.Identity;

namespace Platform.Gateway.Tests;

/// <summary>The issuer's keys over time: a new key every rotation period, the old one published while its tokens live.</summary>
public sealed class SigningKeyRotationTests : IDisposable
{
    readonly string folder = Path.Combine(Path.GetTempPath(), $"issuer-rotation-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void A_new_key_signs_after_each_rotation_and_the_old_one_is_published_until_its_tokens_have_expired()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = Options.Create(new IdentityOptions { KeyDirectory = folder, KeyRotation = TimeSpan.FromDays(30), ClientTokenLifetime = TimeSpan.FromHours(1) });
        var keys = new SigningKeys(options, clock, NullLogger<SigningKeys>.Instance);

        var first = keys.Current.KeyId;
        clock.Advance(TimeSpan.FromDays(29));
        Assert.Equal(first, keys.Current.KeyId);

        clock.Advance(TimeSpan.FromDays(2)); // past the rotation period
        var second = keys.Current.KeyId;
        Assert.NotEqual(first, second);
        Assert.Equal([second, first], keys.Jwks().Keys.Select(k => k.Kid));

        clock.Advance(TimeSpan.FromHours(2)); // the first key's last token (an hour at most) has expired
        Assert.Equal([second], keys.Jwks().Keys.Select(k => k.Kid));
        Assert.Contains(keys.EveryKeyEver(), k => k.KeyId == first); // still verifies what it signed for the audit log

        // Another replica reading the same folder agrees.
        Assert.Equal(second, new SigningKeys(options, clock, NullLogger<SigningKeys>.Instance).Current.KeyId);
    }
}
