using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;
using Platform.Compute.V1;

namespace Platform.Compute.Devices;

/// <summary><c>compute.devices</c>; a device's state changes only with its own heartbeat or the offline sweep.</summary>
public sealed class DeviceStore(NpgsqlDataSource db)
{
    const string Columns = """
        device_id, name, type, owner, cpu_cores, memory_bytes, policy::text, state, state_reason, state_changed_at, idle_seconds,
        cpu_load, battery_percent, charging, temperature_c, last_heartbeat_at, registered_at, offered_seconds
        """;

    public async Task<Device> UpsertAsync(RegisterDeviceRequest request, HarvestPolicy policy, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            INSERT INTO compute.devices (device_id, name, type, owner, cpu_cores, memory_bytes, policy, state, state_reason, state_changed_at, registered_at, last_heartbeat_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'suspended', 'registered; waiting for a heartbeat', $8, $8, $8)
            ON CONFLICT (device_id) DO UPDATE SET name = $2, type = $3, owner = $4, cpu_cores = $5, memory_bytes = $6, policy = $7, last_heartbeat_at = $8
            RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = Guid.Parse(request.DeviceId) });
        command.Parameters.Add(new() { Value = request.Name });
        command.Parameters.Add(new() { Value = request.Type });
        command.Parameters.Add(new() { Value = request.Owner });
        command.Parameters.Add(new() { Value = request.CpuCores });
        command.Parameters.Add(new() { Value = request.MemoryBytes });
        command.Parameters.Add(new() { Value = JsonFormatter.Default.Format(policy), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = now });
        return (await ReadAsync(command, cancellationToken)).Single();
    }

    /// <summary>Records a heartbeat and the policy's decision; returns the device and the state it had before, or null if unknown.</summary>
    public async Task<(Device Device, string Previous)?> HeartbeatAsync(Guid deviceId, DeviceHeartbeatRequest heartbeat,
        Func<HarvestPolicy, (string State, string Reason)> decide, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var select = new NpgsqlCommand($"SELECT {Columns} FROM compute.devices WHERE device_id = $1 FOR UPDATE", connection, transaction);
        select.Parameters.Add(new() { Value = deviceId });
        var current = (await ReadAsync(select, cancellationToken)).SingleOrDefault();
        if (current is null) return null;

        var (state, reason) = decide(current.Policy);
        // Time offered accrues between heartbeats while the device stayed offered.
        var offeredFor = current.State == "offered" ? Math.Max(0, (now - DateTimeOffset.FromUnixTimeMilliseconds(current.LastHeartbeatAtMs)).TotalSeconds) : 0;
        await using var update = new NpgsqlCommand($"""
            UPDATE compute.devices SET idle_seconds = $2, cpu_load = $3, battery_percent = $4, charging = $5, temperature_c = $6,
                last_heartbeat_at = $7, state = $8, state_reason = $9,
                state_changed_at = CASE WHEN state <> $8 THEN $7 ELSE state_changed_at END, offered_seconds = offered_seconds + $10
            WHERE device_id = $1 RETURNING {Columns}
            """, connection, transaction);
        var p = update.Parameters;
        p.Add(new() { Value = deviceId });
        p.Add(new() { Value = heartbeat.IdleSeconds });
        p.Add(new() { Value = heartbeat.CpuLoad });
        p.Add(new() { Value = heartbeat.HasBatteryPercent ? heartbeat.BatteryPercent : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        p.Add(new() { Value = heartbeat.Charging });
        p.Add(new() { Value = heartbeat.HasTemperatureC ? heartbeat.TemperatureC : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        p.Add(new() { Value = now });
        p.Add(new() { Value = state });
        p.Add(new() { Value = reason });
        p.Add(new() { Value = offeredFor });
        var device = (await ReadAsync(update, cancellationToken)).Single();
        await transaction.CommitAsync(cancellationToken);
        return (device, current.State);
    }

    public async Task<Device?> SetPolicyAsync(Guid deviceId, HarvestPolicy policy, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"UPDATE compute.devices SET policy = $2 WHERE device_id = $1 RETURNING {Columns}");
        command.Parameters.Add(new() { Value = deviceId });
        command.Parameters.Add(new() { Value = JsonFormatter.Default.Format(policy), NpgsqlDbType = NpgsqlDbType.Jsonb });
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Devices silent since <paramref name="before"/> become offline; returns them.</summary>
    public async Task<IReadOnlyList<Device>> MarkOfflineAsync(DateTimeOffset before, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"""
            UPDATE compute.devices SET state = 'offline', state_reason = 'no heartbeat since ' || to_char(last_heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                state_changed_at = $2
            WHERE state <> 'offline' AND last_heartbeat_at < $1 RETURNING {Columns}
            """);
        command.Parameters.Add(new() { Value = before });
        command.Parameters.Add(new() { Value = now });
        return await ReadAsync(command, cancellationToken);
    }

    public async Task<Device?> GetAsync(Guid deviceId, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.devices WHERE device_id = $1");
        command.Parameters.Add(new() { Value = deviceId });
        return (await ReadAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<Device>> ListAsync(string state, string owner, CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand($"SELECT {Columns} FROM compute.devices WHERE ($1 = '' OR state = $1) AND ($2 = '' OR owner = $2) ORDER BY name");
        command.Parameters.Add(new() { Value = state });
        command.Parameters.Add(new() { Value = owner });
        return await ReadAsync(command, cancellationToken);
    }

    static async Task<IReadOnlyList<Device>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var devices = new List<Device>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var device = new Device
            {
                DeviceId = reader.GetGuid(0).ToString(), Name = reader.GetString(1), Type = reader.GetString(2), Owner = reader.GetString(3),
                CpuCores = reader.GetInt32(4), MemoryBytes = reader.GetInt64(5), Policy = HarvestPolicy.Parser.ParseJson(reader.GetString(6)),
                State = reader.GetString(7), StateReason = reader.GetString(8), StateChangedAtMs = reader.GetFieldValue<DateTimeOffset>(9).ToUnixTimeMilliseconds(),
                IdleSeconds = reader.GetInt64(10), CpuLoad = reader.GetDouble(11), Charging = reader.GetBoolean(13),
                LastHeartbeatAtMs = reader.GetFieldValue<DateTimeOffset>(15).ToUnixTimeMilliseconds(), RegisteredAtMs = reader.GetFieldValue<DateTimeOffset>(16).ToUnixTimeMilliseconds(),
                OfferedHours = reader.GetDouble(17) / 3600,
            };
            if (!reader.IsDBNull(12)) device.BatteryPercent = reader.GetDouble(12);
            if (!reader.IsDBNull(14)) device.TemperatureC = reader.GetDouble(14);
            devices.Add(device);
        }
        return devices;
    }
}
