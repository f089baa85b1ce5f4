using System.Net;
using System.Numerics;

namespace Platform.Privacy.Vpn;

/// <summary>Addresses from the VPN pool: the lowest free host address (the network and broadcast addresses are never given).</summary>
public static class AddressPool
{
    public static IPAddress? FirstFree(IPNetwork pool, IReadOnlySet<IPAddress> used)
    {
        var bytes = pool.BaseAddress.GetAddressBytes();
        var bits = bytes.Length * 8;
        var size = BigInteger.One << (bits - pool.PrefixLength);
        var start = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var limit = BigInteger.Min(size - 1, 1 << 20); // a pool is searched up to a million addresses deep
        for (var offset = BigInteger.One; offset < limit; offset++)
        {
            var candidate = (start + offset).ToByteArray(isUnsigned: true, isBigEndian: true);
            var padded = new byte[bytes.Length];
            candidate.CopyTo(padded, padded.Length - candidate.Length);
            var address = new IPAddress(padded);
            if (!used.Contains(address)) return address;
        }
        return null;
    }
}
