using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Governance;
using Platform.Tokenomics.Ledger;
using Platform.Tokenomics.Parameters;
using Platform.Tokenomics.Rewards;
using Platform.Tokenomics.Staking;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "tokenomics");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddParameters();        // Parameters/: what governance changes (unbonding period, reward rates, quorum...), from genesis values
builder.AddLedger();            // Ledger/: accounts, double-entry transfers with idempotency keys, two-phase, mint and burn
builder.AddStaking();           // Staking/: validators, delegations by shares, unbonding, redelegation, slashing and jail
builder.AddRewards();           // Rewards/: epochs of measured work (Telemetry) paid to operators and, by F1, to delegators
builder.AddGovernance();        // Governance/: proposals, snapshot voting power, votes, timelock, execution in the owning service

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<LedgerService>();
app.MapGrpcService<StakingService>();
app.MapGrpcService<DistributionService>();
app.MapGrpcService<GovernanceService>();

app.Run();

public partial class Program;
