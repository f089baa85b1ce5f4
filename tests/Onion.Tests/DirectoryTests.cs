using System.Net;
using Platform.Onion.Directory;

namespace Platform.Onion.Tests;

public class DirectoryTests
{
    static ConsensusDocument Document(DateTimeOffset now) => new()
    {
        ValidAfter = now.AddMinutes(-5), FreshUntil = now.AddMinutes(5), ValidUntil = now.AddMinutes(15),
        Relays = [new ConsensusRelay
        {
            NodeId = "n", Nickname = "n", IdentityKey = Convert.ToBase64String(new byte[32]), OnionKey = Convert.ToBase64String(new byte[32]),
            Address = "127.0.0.1", Port = 9001, BandwidthBytesPerSecond = 5, Flags = ["Running"], ExitPolicy = ["reject *:*"],
        }],
    };

    [Fact]
    public void A_consensus_is_used_only_with_the_authoritys_signature_and_within_its_validity()
    {
        var authority = RelayIdentity.Create();
        var now = DateTimeOffset.UtcNow;
        var signed = Document(now).Sign(authority);
        Assert.Single(ConsensusDocument.Verify(signed, authority.PublicKey, now).Relays);

        var forged = signed with { Body = signed.Body.Replace("9001", "9002") };
        Assert.Contains("not signed", Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(forged, authority.PublicKey, now)).Message);
        var otherAuthority = RelayIdentity.Create();
        Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(Document(now).Sign(otherAuthority), authority.PublicKey, now));
        Assert.Contains("expired", Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(signed, authority.PublicKey, now.AddMinutes(16))).Message);
        Assert.Contains("not valid before", Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(signed, authority.PublicKey, now.AddMinutes(-6))).Message);
        Assert.Throws<ConsensusRejectedException>(() => ConsensusDocument.Verify(signed with { Signature = "not base64" }, authority.PublicKey, now));
    }

    [Fact]
    public void A_descriptor_is_believed_only_when_its_identity_key_signed_it()
    {
        using var identity = RelayIdentity.Create();
        var descriptor = new RelayDescriptor
        {
            NodeId = Guid.NewGuid().ToString(), Nickname = "node-1", IdentityKey = Convert.ToBase64String(identity.PublicKey),
            OnionKey = Convert.ToBase64String(Curve25519.PublicKey(Curve25519.NewPrivateKey())), Address = "127.0.0.1", Port = 9001,
            BandwidthBytesPerSecond = 1000, ExitPolicy = ExitPolicy.Default, PublishedAt = DateTimeOffset.UtcNow, StartedAt = DateTimeOffset.UtcNow,
        };
        var signed = descriptor.Sign(identity);
        Assert.Equal(descriptor.Port, RelayDescriptor.Verify(signed)!.Port);
        Assert.Null(RelayDescriptor.Verify(signed with { Body = signed.Body.Replace("9001", "9002") }));
        var other = RelayIdentity.Create();
        Assert.Null(RelayDescriptor.Verify((descriptor with { IdentityKey = Convert.ToBase64String(other.PublicKey) }).Sign(identity)));
    }

    [Theory]
    [InlineData("127.0.0.1", 80, true)]
    [InlineData("127.9.9.9", 5432, true)]
    [InlineData("::1", 443, true)]
    [InlineData("::ffff:127.0.0.1", 443, true)]
    [InlineData("10.0.0.1", 80, false)]
    [InlineData("192.0.2.1", 443, false)]
    public void The_default_exit_policy_accepts_loopback_only(string address, int port, bool allowed) =>
        Assert.Equal(allowed, ExitPolicy.Parse(ExitPolicy.Default).Allows(IPAddress.Parse(address), port));

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("0.1.2.3")]
    [InlineData("::")]
    [InlineData("169.254.169.254")]
    [InlineData("fe80::1")]
    [InlineData("224.0.0.1")]
    [InlineData("::ffff:0.0.0.0")]
    public void This_host_link_local_and_multicast_are_never_exits_whatever_the_rules(string address) =>
        Assert.False(ExitPolicy.Parse(["accept *:*"]).Allows(IPAddress.Parse(address), 80));

    [Fact]
    public void Exit_policy_rules_match_in_order_and_bad_rules_are_refused_by_name()
    {
        var policy = ExitPolicy.Parse(["reject 10.1.0.0/16:*", "accept 10.0.0.0/8:80-443", "reject *:*"]);
        Assert.True(policy.Allows(IPAddress.Parse("10.2.3.4"), 443));
        Assert.False(policy.Allows(IPAddress.Parse("10.1.3.4"), 443));
        Assert.False(policy.Allows(IPAddress.Parse("10.2.3.4"), 22));
        Assert.Contains("bad ports", Assert.Throws<FormatException>(() => ExitPolicy.Parse(["accept *:0"])).Message);
        Assert.Contains("expected", Assert.Throws<FormatException>(() => ExitPolicy.Parse(["allow *:*"])).Message);
        Assert.Contains("not an address", Assert.Throws<FormatException>(() => ExitPolicy.Parse(["accept example.com:80"])).Message);
    }

    [Fact]
    public void Onion_keys_rotate_and_the_old_one_is_accepted_only_for_the_overlap()
    {
        var ring = new OnionKeyRing(TimeSpan.FromHours(1), TimeSpan.FromMinutes(10));
        var start = DateTimeOffset.UtcNow;
        ring.Rotate(start);
        var first = ring.Current.PublicKey;
        Assert.False(ring.Rotate(start.AddMinutes(59)));
        Assert.True(ring.Rotate(start.AddMinutes(60)));
        Assert.NotEqual(first, ring.Current.PublicKey);
        Assert.NotNull(ring.Find(first));
        ring.Rotate(start.AddMinutes(69));
        Assert.NotNull(ring.Find(first));
        ring.Rotate(start.AddMinutes(70));
        Assert.Null(ring.Find(first));
        Assert.NotNull(ring.Find(ring.Current.PublicKey));
    }
}
