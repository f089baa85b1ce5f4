namespace Platform.Gateway.Audit;

/// <summary>What a verification found: the chain whole and the heads genuine, or the first row where it breaks and why.</summary>
public sealed record AuditVerdict(bool Valid, long Rows, int SignedHeads, long? BrokenAtSeq, string? Reason);

/// <summary>Walks the chain from its first row, recomputing every hash, then checks every signed head against it.</summary>
public sealed class AuditVerification(AuditLog log, AuditHeads heads)
{
    public async Task<AuditVerdict> VerifyAsync(CancellationToken cancellationToken)
    {
        var previous = AuditLog.Genesis;
        long rows = 0, expectedSeq = 1;
        var chain = new Dictionary<long, byte[]>();
        await foreach (var (row, stored) in log.ChainAsync(cancellationToken))
        {
            if (row.Seq != expectedSeq) return new(false, rows, 0, expectedSeq, $"row {expectedSeq} is missing");
            var recomputed = row.Chain(previous);
            if (!recomputed.AsSpan().SequenceEqual(stored)) return new(false, rows, 0, row.Seq, $"row {row.Seq} does not hash to what the chain holds: it was changed");
            chain[row.Seq] = previous = stored;
            rows++;
            expectedSeq++;
        }
        var signed = await heads.ListAsync(cancellationToken);
        foreach (var head in signed)
        {
            if (!await heads.IsGenuineAsync(head)) return new(false, rows, 0, head.Seq, $"the signed head at row {head.Seq} is not the issuer's signature");
            if (!chain.TryGetValue(head.Seq, out var hash)) return new(false, rows, 0, head.Seq, $"row {head.Seq}, signed as the head once, is gone");
            if (!hash.AsSpan().SequenceEqual(head.Hash)) return new(false, rows, 0, head.Seq, $"the chain at row {head.Seq} differs from its signed head: rows up to it were rewritten");
        }
        return new(true, rows, signed.Count, null, null);
    }
}
