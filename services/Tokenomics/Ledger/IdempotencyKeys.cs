using Grpc.Core;
using Platform.ServiceDefaults.Grpc;

namespace Platform.Tokenomics.Ledger;

/// <summary>
/// A movement's idempotency key: the body's <c>idempotency_key</c> or, for HTTP clients, the <c>Idempotency-Key</c>
/// header (IETF httpapi-idempotency-key-header) — Stripe's and the draft's way, so a client can retry any request
/// without touching its body. When both are given they must agree; whether one is required is the caller's rule.
/// </summary>
public static class IdempotencyKeys
{
    public const string Header = "idempotency-key";

    public static string Resolve(string bodyKey, ServerCallContext context)
    {
        var headerKey = context.RequestHeaders.GetValue(Header) ?? "";
        new RequestValidation()
            .Require(bodyKey == "" || headerKey == "" || bodyKey == headerKey, "idempotency_key", "differs from the Idempotency-Key header")
            .ThrowIfInvalid();
        return bodyKey != "" ? bodyKey : headerKey;
    }
}
