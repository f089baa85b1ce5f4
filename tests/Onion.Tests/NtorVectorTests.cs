namespace Platform.Onion.Tests;

/// <summary>
/// ntor against vectors computed by Tor's own reference implementation, <c>src/test/ntor_ref.py</c> (tor commit
/// 3cb6a690be60, blob e3307430e1ad), with fixed private keys fed to its key generation: node_id, b, x and y below are
/// the raw scalars it was given (it clamps them, as libsodium does).
/// </summary>
public class NtorVectorTests
{
    public static TheoryData<string, string, string, string, string, string, string> Vectors => new()
    {
        {
            "69546f6c64596f7541626f75745374616972732e",
            "43ad260677fb22cc89d0f7d21a43250998642b6043a29f0a4014293cad5be5c0",
            "31939c5adddec942290b637530898a70f2d32453e5241f30a0550780e7586b07",
            "5be551a192e32372d3dfca3025e3a6129aa00350e5ffceeb0184f61b25e23481",
            "69546f6c64596f7541626f75745374616972732ef0be76091420ee735d8f5f13e4f386096f530c0ff178de070050a1bcaef92162f01e3feed2953d4221feddad1b6baa06ee321666eb0e170d33428905b0057d4e",
            "98ce40bd9d69d7950579450cfcb9844f328d214b045f825a96bf70f9ae37b37d7836eff9cb1937344d651fc6764fbbd3569249ada4559c53d9eb977f46f71f5d",
            "2c88f8413c1f9698ec4ad5685a6d85de2964e18beed6eb521f3b10d9648a0f99b9aa57c8dcffc8c6404941e2022768b094765ab255fb9b7b93d99bf76f193104dc8cfb491c46ba27ced3e3e6321eb7ce4b4f6141a0ece56581a5e5b6c84814e1e271bf53a964f4fcc6e9e75013b717ec9b503005f3953cbd6655572a6a1ac2f2"
        },
        {
            "d8fa5e869c25a82c16eba98f9a01f2f4b8b4d329",
            "7768b5a5c701d56e3b4be11d1991929a4fbd0f80550389e25925c53c15052b3a",
            "dc81b3128d11304c2cec3e83288601ecf1e909772985fdd881bb5edae36012fd",
            "b75ff0fecf991f9ddb06d1ef010a389e7fc77b7902e94f0197f5c7d4c97f3642",
            "d8fa5e869c25a82c16eba98f9a01f2f4b8b4d3299f6aaa898d53d3555833790f58eb807496de8b4eb2c5343a14652dbb2593d5138f8398b62616546040d07a4bc7f72b175f8223125aa8aba473f542f2d16b3f18",
            "36c618ba8c1352624504d314d4ce952d113cb999063ac39bc59f5b70a7cc131c71c1dc13f5a13991dec9821c5181482543b1e7e31b6c5249b383b7796c56ef1f",
            "dc0aa144096a9d125b295cc84dc13bf9c1ddb8da60d5ed8af8052f459533d6b5e241738ecc76f74dc1009db1d85b34a339e959273543ac7e6dfcbcf28504a3790b6b115a7aac9da9ddf3caa64fa7f72ed3286e734958212ed713ad8988182d56aa7159b163175d1a2d1d24e573626ec8df95757dca8b83ca1193e8ad0c48f52c"
        },
    };

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Handshake_matches_tors_reference_implementation(string nodeId, string b, string x, string y, string onionskin, string reply, string keys)
    {
        var id = Convert.FromHexString(nodeId);
        var serverKey = Convert.FromHexString(b);
        var publicB = Curve25519.PublicKey(serverKey);

        var skin = Ntor.ClientStart(id, publicB, out var state, Convert.FromHexString(x));
        Assert.Equal(onionskin, Convert.ToHexStringLower(skin));

        Assert.True(Ntor.TryServer(skin, id, key => key.AsSpan().SequenceEqual(publicB) ? serverKey : null, 128, out var serverReply, out var serverKeys, Convert.FromHexString(y)));
        Assert.Equal(reply, Convert.ToHexStringLower(serverReply));
        Assert.Equal(keys, Convert.ToHexStringLower(serverKeys));

        Assert.True(Ntor.TryClientFinish(state, serverReply, 128, out var clientKeys));
        Assert.Equal(keys, Convert.ToHexStringLower(clientKeys));
        // The first 72 bytes are what Tor itself takes (Df, Db, Kf, Kb); this network takes 128.
        Assert.Equal(keys[..144], Convert.ToHexStringLower(clientKeys[..72]));
    }

    [Fact]
    public void A_reply_from_a_relay_without_the_onion_key_is_refused()
    {
        var identity = RelayIdentity.Create();
        var real = Curve25519.NewPrivateKey();
        var impostor = Curve25519.NewPrivateKey();
        var skin = Ntor.ClientStart(identity.NodeId, Curve25519.PublicKey(real), out var state);
        // The impostor answers as if its own key were the one asked for.
        Assert.True(Ntor.TryServer(skin, identity.NodeId, _ => impostor, 128, out var reply, out _));
        Assert.False(Ntor.TryClientFinish(state, reply, 128, out _));
    }

    [Fact]
    public void Small_order_points_and_foreign_onionskins_are_refused()
    {
        var identity = RelayIdentity.Create();
        var b = Curve25519.NewPrivateKey();
        var publicB = Curve25519.PublicKey(b);
        byte[] zeroPoint = [.. identity.NodeId, .. publicB, .. new byte[32]];
        Assert.False(Ntor.TryServer(zeroPoint, identity.NodeId, _ => b, 128, out _, out _));

        var skin = Ntor.ClientStart(RelayIdentity.Create().NodeId, publicB, out _);
        Assert.False(Ntor.TryServer(skin, identity.NodeId, _ => b, 128, out _, out _));

        var unknownKey = Ntor.ClientStart(identity.NodeId, Curve25519.PublicKey(Curve25519.NewPrivateKey()), out _);
        Assert.False(Ntor.TryServer(unknownKey, identity.NodeId, key => key.AsSpan().SequenceEqual(publicB) ? b : null, 128, out _, out _));
    }

    [Fact]
    public void Keys_are_clamped_as_wg_genkey_does()
    {
        var key = Curve25519.NewPrivateKey();
        Assert.Equal(0, key[0] & 7);
        Assert.Equal(64, key[31] & 0xC0);
    }
}
