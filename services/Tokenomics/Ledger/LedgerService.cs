using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Platform.ServiceDefaults.Auth;
using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.V1;

namespace Platform.Tokenomics.Ledger;

/// <summary>The ledger's API: balances, transfers (one, many, two-phase), history, mint and burn, and the totals with their invariants.</summary>
public sealed class LedgerService(LedgerStore store, TransferBatches batches, EventPublisher events, TimeProvider clock, ILogger<LedgerService> logger) : V1.Tokenomics.TokenomicsBase
{
    const int MaxBatch = 1000;

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<TokenStats> GetStats(GetStatsRequest request, ServerCallContext context) =>
        LedgerStats.From((await store.TotalsAsync(context.CancellationToken))!);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Account> GetBalance(GetBalanceRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        var accountId = request.AccountId == "" ? SystemAccounts.User(Callers.Name(user)) : request.AccountId;
        new RequestValidation().Require(TransferRequests.IsAccount(accountId), "account_id", "must be an account (user:<name>, operator:<node>, treasury, staking-pool, escrow, issuance)").ThrowIfInvalid();
        LedgerAccess.EnsureMayRead(user, accountId);
        // An account nobody has paid into yet holds nothing: its balance is 0, not an error.
        return (await store.AccountAsync(accountId, context.CancellationToken))?.ToMessage()
            ?? new Account { AccountId = accountId, Kind = accountId[..Math.Max(0, accountId.IndexOf(':'))], Owner = accountId[(accountId.IndexOf(':') + 1)..] };
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Transfer> CreateTransfer(CreateTransferRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        request.IdempotencyKey = IdempotencyKeys.Resolve(request.IdempotencyKey, context);
        var transfer = TransferRequests.Transfer(request, context.Caller(), LedgerAccess.Requester(user), clock.GetUtcNow());
        LedgerAccess.EnsureMayDebit(user, transfer.DebitAccountId);
        LedgerAccess.EnsureMayCredit(user, transfer.CreditAccountId);
        return await ApplyAsync(transfer, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<CreateTransfersResponse> CreateTransfers(CreateTransfersRequest request, ServerCallContext context)
    {
        new RequestValidation().Require(request.Transfers.Count is > 0 and <= MaxBatch, "transfers", $"1 to {MaxBatch} transfers").ThrowIfInvalid();
        var user = context.GetHttpContext().User;
        var results = new TransferResult?[request.Transfers.Count];
        var valid = new List<(int Index, TransferRow Row)>();
        for (var i = 0; i < request.Transfers.Count; i++)
        {
            try
            {
                var transfer = TransferRequests.Transfer(request.Transfers[i], context.Caller(), LedgerAccess.Requester(user), clock.GetUtcNow(), $"transfers[{i}].");
                LedgerAccess.EnsureMayDebit(user, transfer.DebitAccountId);
                LedgerAccess.EnsureMayCredit(user, transfer.CreditAccountId);
                valid.Add((i, transfer));
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.PermissionDenied)
            {
                results[i] = new TransferResult { Error = $"{(ex.StatusCode == StatusCode.InvalidArgument ? "INVALID_ARGUMENT" : "PERMISSION_DENIED")}: {ex.Status.Detail}" };
            }
        }
        if (valid.Count > 0)
        {
            try
            {
                var outcomes = await batches.ApplyAsync([.. valid.Select(v => v.Row)], context.CancellationToken);
                for (var j = 0; j < valid.Count; j++)
                    results[valid[j].Index] = outcomes[j] switch
                    {
                        { Transfer: { } applied } => new TransferResult { Transfer = applied.ToMessage(outcomes[j].Replayed) },
                        { Refusal: DomainException refusal } => new TransferResult { Error = $"{refusal.Reason}: {refusal.Message}" },
                        var other => new TransferResult { Error = $"ABORTED: {other.Refusal?.Message}" },
                    };
            }
            catch (Npgsql.NpgsqlException ex) when (!context.CancellationToken.IsCancellationRequested)
            {
                // None of them was applied (the batch's transaction rolled back): each may be sent again with its key.
                logger.LogWarning(ex, "Batch of {Count} transfers not applied", valid.Count);
                foreach (var (index, _) in valid) results[index] = new TransferResult { Error = "UNAVAILABLE: the ledger could not apply it now; send it again with the same key" };
            }
        }
        var response = new CreateTransfersResponse();
        response.Results.AddRange(results.Select(r => r!));
        var fresh = response.Results.Where(r => r.Transfer is { Replayed: false }).Select(r => r.Transfer.TransferId).ToList();
        if (fresh.Count > 0)
        {
            logger.LogInformation("Batch of {Count} transfers by {Caller}: {Applied} applied", request.Transfers.Count, LedgerAccess.Requester(user), fresh.Count);
            await events.PublishAsync("ledger", "transfer.batch", new { requestedBy = LedgerAccess.Requester(user), applied = fresh.Count, transferIds = fresh });
        }
        return response;
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<Transfer> PostTransfer(ResolveTransferRequest request, ServerCallContext context) => ResolveAsync(request, post: true, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override Task<Transfer> VoidTransfer(ResolveTransferRequest request, ServerCallContext context) => ResolveAsync(request, post: false, context);

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<ListTransfersResponse> ListTransfers(ListTransfersRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        var accountId = request.AccountId == "" ? SystemAccounts.User(Callers.Name(user)) : request.AccountId;
        var pageSize = request.PageSize == 0 ? 50 : request.PageSize;
        var after = KeysetPageToken.Parse(request.PageToken);
        new RequestValidation()
            .Require(TransferRequests.IsAccount(accountId), "account_id", "must be an account")
            .Require(pageSize is > 0 and <= 500, "page_size", "must be between 1 and 500")
            .Require(request.PageToken == "" || after is not null, "page_token", "is not a token this API gave out")
            .ThrowIfInvalid();
        LedgerAccess.EnsureMayRead(user, accountId);
        var page = await store.ListAsync(accountId, after, pageSize + 1, context.CancellationToken);
        var response = new ListTransfersResponse();
        response.Transfers.AddRange(page.Take(pageSize).Select(t => t.ToMessage()));
        if (page.Count > pageSize) response.NextPageToken = KeysetPageToken.Of(page[pageSize - 1].CreatedAt, page[pageSize - 1].TransferId);
        return response;
    }

    [Authorize(Policy = PlatformPolicies.AdminOrService)]
    public override Task<Transfer> Mint(MintRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        request.IdempotencyKey = IdempotencyKeys.Resolve(request.IdempotencyKey, context);
        var mint = TransferRequests.Mint(request, LedgerAccess.Requester(user), clock.GetUtcNow());
        LedgerAccess.EnsureMayCredit(user, mint.CreditAccountId);
        // Treasury policy: an admin mints into the treasury, never straight into an account of their choosing.
        if (!LedgerAccess.IsService(user) && mint.CreditAccountId != SystemAccounts.Treasury)
            throw new RpcException(new Status(StatusCode.PermissionDenied, "admins mint into the treasury; rewards to other accounts come from the platform's services"));
        return ApplyAsync(mint, context.CancellationToken);
    }

    [Authorize(Policy = PlatformPolicies.Viewer)]
    public override async Task<Transfer> Burn(BurnRequest request, ServerCallContext context)
    {
        var user = context.GetHttpContext().User;
        request.IdempotencyKey = IdempotencyKeys.Resolve(request.IdempotencyKey, context);
        var transfer = TransferRequests.Burn(request, context.Caller(), LedgerAccess.Requester(user), clock.GetUtcNow());
        LedgerAccess.EnsureMayDebit(user, transfer.DebitAccountId);
        return await ApplyAsync(transfer, context.CancellationToken);
    }

    async Task<Transfer> ApplyAsync(TransferRow transfer, CancellationToken cancellationToken)
    {
        var (applied, replayed) = await store.ApplyAsync(transfer, cancellationToken);
        if (!replayed)
        {
            logger.LogInformation("{Kind} {TransferId}: {Amount} from {Debit} to {Credit} ({State}) by {Caller}",
                applied.Kind, applied.TransferId, applied.Amount, applied.DebitAccountId, applied.CreditAccountId, applied.State, applied.RequestedBy);
            await events.PublishAsync("ledger", $"transfer.{applied.State}", applied.ToMessage());
        }
        return applied.ToMessage(replayed);
    }

    async Task<Transfer> ResolveAsync(ResolveTransferRequest request, bool post, ServerCallContext context)
    {
        var id = RequestValidation.RequireGuid(request.TransferId, "transfer_id");
        new RequestValidation().Require(request.Amount >= 0 && (post || request.Amount == 0), "amount", "only for a post: 0 (all of it) or a positive amount up to what it reserved")
            .ThrowIfInvalid();
        var user = context.GetHttpContext().User;
        var (resolved, replayed) = await store.ResolveAsync(id, post, t => LedgerAccess.EnsureMayResolve(user, t), clock.GetUtcNow(), context.CancellationToken, request.Amount)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"transfer {request.TransferId} does not exist"));
        if (!replayed) await events.PublishAsync("ledger", $"transfer.{resolved.State}", resolved.ToMessage());
        return resolved.ToMessage(replayed);
    }
}
