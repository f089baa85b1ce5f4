using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;

namespace Platform.Tokenomics.Staking;

/// <summary>Validators' registration and jail, and what staking shows: validators, a delegator's delegations, unbondings and rewards.</summary>
public sealed class ValidatorStore(NpgsqlDataSource db)
{
    public async Task<ValidatorRow> RegisterAsync(string node, decimal commissionRate, string registeredBy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var row = new ValidatorRow { Node = node, RegisteredBy = registeredBy, CommissionRate = commissionRate, CreatedAt = now };
        var inserted = await db.ExecuteAsync("""
            INSERT INTO tokenomics.validators (node, registered_by, commission_rate, created_at) VALUES (@Node, @RegisteredBy, @CommissionRate, @CreatedAt)
            ON CONFLICT (node) DO NOTHING
            """, row, cancellationToken);
        if (inserted == 0) throw new DuplicateException("VALIDATOR_EXISTS", $"node {node} is a validator already");
        return row;
    }

    /// <summary>Ends a validator's jail once its time is served: 409 before then.</summary>
    public Task<ValidatorRow?> UnjailAsync(string node, string caller, bool admin, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync<ValidatorRow?>(async (connection, transaction) =>
        {
            var validator = (await DelegationBook.LockValidatorsAsync(connection, transaction, [node], cancellationToken)).SingleOrDefault();
            if (validator is null) return null;
            if (!admin && validator.RegisteredBy != caller)
                throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.PermissionDenied, $"only {validator.RegisteredBy}, who registered {node}, or an admin unjails it"));
            if (validator.JailedUntil is null) return validator;
            if (validator.JailedUntil > now)
                throw new ConflictException("JAILED", $"node {node} is jailed until {validator.JailedUntil:O}");
            return await DelegationBook.WriteValidatorAsync(connection, transaction, validator with { JailedUntil = null }, cancellationToken);
        }, cancellationToken);

    public Task<ValidatorRow?> GetAsync(string node, CancellationToken cancellationToken) =>
        db.QuerySingleOrDefaultAsync<ValidatorRow>($"SELECT {ValidatorRow.Columns} FROM tokenomics.validators WHERE node = @node", new { node }, cancellationToken);

    public async Task<IReadOnlyList<(ValidatorRow Validator, int Delegators)>> ListAsync(CancellationToken cancellationToken)
    {
        var validators = await db.QueryAsync<ValidatorRow>($"SELECT {ValidatorRow.Columns} FROM tokenomics.validators ORDER BY tokens DESC, node", null, cancellationToken);
        var counts = (await db.QueryAsync<NodeCount>("SELECT node, count(*)::int AS count FROM tokenomics.delegations GROUP BY node", null, cancellationToken))
            .ToDictionary(c => c.Node, c => c.Count);
        return [.. validators.Select(v => (v, counts.GetValueOrDefault(v.Node)))];
    }

    /// <summary>A delegator's delegations, each with the validator it is priced by, read in one snapshot.</summary>
    public async Task<IReadOnlyList<(DelegationRow Delegation, ValidatorRow Validator)>> DelegationsAsync(string delegator, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var delegations = (await connection.QueryAsync<DelegationRow>(transaction.In(
            $"SELECT {DelegationRow.Columns} FROM tokenomics.delegations WHERE delegator = @delegator ORDER BY node", new { delegator }, cancellationToken))).ToList();
        var validators = (await connection.QueryAsync<ValidatorRow>(transaction.In(
            $"SELECT {ValidatorRow.Columns} FROM tokenomics.validators WHERE node = ANY(@nodes)", new { nodes = delegations.Select(d => d.Node).ToArray() }, cancellationToken)))
            .ToDictionary(v => v.Node);
        return [.. delegations.Select(d => (d, validators[d.Node]))];
    }

    public Task<IReadOnlyList<UnbondingRow>> UnbondingsAsync(string delegator, CancellationToken cancellationToken) =>
        db.QueryAsync<UnbondingRow>($"SELECT {UnbondingRow.Columns} FROM tokenomics.unbondings WHERE delegator = @delegator ORDER BY created_at DESC LIMIT 500",
            new { delegator }, cancellationToken);

    /// <summary>Pays every delegation of <paramref name="delegator"/> what it has earned; answers what each paid.</summary>
    public Task<IReadOnlyList<(string Node, long Paid)>> ClaimAsync(string delegator, DateTimeOffset now, CancellationToken cancellationToken) =>
        db.InTransactionAsync<IReadOnlyList<(string, long)>>(async (connection, transaction) =>
        {
            var nodes = await connection.QueryAsync<string>(transaction.In(
                "SELECT node FROM tokenomics.delegations WHERE delegator = @delegator", new { delegator }, cancellationToken));
            var paid = new List<(string, long)>();
            foreach (var validator in await DelegationBook.LockValidatorsAsync(connection, transaction, nodes, cancellationToken))
            {
                if (await DelegationBook.DelegationAsync(connection, transaction, delegator, validator.Node, cancellationToken) is not { } delegation) continue;
                paid.Add((validator.Node, await DelegationBook.SettleAsync(connection, transaction, validator, delegation, now, cancellationToken)));
            }
            return paid;
        }, cancellationToken);

    sealed record NodeCount
    {
        public string Node { get; init; } = "";
        public int Count { get; init; }
    }
}
