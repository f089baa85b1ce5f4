using Npgsql;
using Platform.Privacy.V1;

namespace Platform.Privacy.Relays;

/// <summary>The <c>privacy.relays</c> table: the relay directory.</summary>
public sealed class RelayStore(NpgsqlDataSource db)
{
    public async Task<IReadOnlyList<Relay>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT relay_id, node_id, address, status, registered_at FROM privacy.relays ORDER BY registered_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var relays = new List<Relay>();
        while (await reader.ReadAsync(cancellationToken))
            relays.Add(new Relay
            {
                RelayId = reader.GetGuid(0).ToString(),
                NodeId = reader.GetGuid(1).ToString(),
                Address = reader.GetString(2),
                Status = reader.GetString(3),
                RegisteredAtMs = reader.GetFieldValue<DateTimeOffset>(4).ToUnixTimeMilliseconds(),
            });
        return relays;
    }
}
