using Google.Protobuf;
using Npgsql;
using Platform.Scheduler.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Scheduler.Placement;

/// <summary><c>scheduler.decisions</c>: each solve's decision as the API shows it; the newest 500 are kept.</summary>
public sealed class DecisionStore(NpgsqlDataSource db)
{
    const int Kept = 500;
    static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public async Task SaveAsync(Decision decision, CancellationToken cancellationToken)
    {
        await db.ExecuteAsync("""
            INSERT INTO scheduler.decisions (decision_id, made_at, body) VALUES (@id, @madeAt, @body::jsonb);
            DELETE FROM scheduler.decisions WHERE made_at < (SELECT made_at FROM scheduler.decisions ORDER BY made_at DESC OFFSET @kept LIMIT 1);
            """, new
        {
            id = Guid.Parse(decision.DecisionId), madeAt = DateTimeOffset.FromUnixTimeMilliseconds(decision.MadeAtMs),
            body = JsonFormatter.Default.Format(decision), kept = Kept,
        }, cancellationToken);
    }

    public async Task<Decision?> LatestAsync(CancellationToken cancellationToken) =>
        Parse(await db.QuerySingleOrDefaultAsync<string>("SELECT body::text FROM scheduler.decisions ORDER BY made_at DESC LIMIT 1", null, cancellationToken));

    public async Task<Decision?> GetAsync(Guid decisionId, CancellationToken cancellationToken) =>
        Parse(await db.QuerySingleOrDefaultAsync<string>("SELECT body::text FROM scheduler.decisions WHERE decision_id = @decisionId", new { decisionId }, cancellationToken));

    static Decision? Parse(string? body) => body is null ? null : Parser.Parse<Decision>(body);
}
