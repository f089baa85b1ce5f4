using Platform.ServiceDefaults.Cache;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Grpc;
using Platform.Tokenomics.Ledger;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddPlatformDatabase<Program>(schema: "tokenomics");
builder.AddPlatformCache();
builder.AddPlatformGrpc();
builder.AddLedger();            // Ledger/: accounts, double-entry transfers with idempotency keys, two-phase, mint and burn

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapGrpcService<LedgerService>();

app.Run();

public partial class Program;
