using Dapper;
using Google.Protobuf;
using Npgsql;
using Platform.Compute.V1;
using Platform.ServiceDefaults.Data;

namespace Platform.Compute.Devices;

/// <summary><c>compute.devices</c>; a device's state changes only with its own heartbeat or the offline sweep.</summary>
public sealed class DeviceStore(NpgsqlDataSource db)
{
    const string Columns = """
        device_id, name, type, owner, cpu_cores, memory_bytes, policy, state, state_reason, state_changed_at, idle_seconds,
        cpu_load, battery_percent, charging, temperature_c, last_heartbeat_at, registered_at, offered_seconds
        """;

    public async Task<Device> UpsertAsync(RegisterDeviceRequest request, HarvestPolicy policy, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<DeviceRow>($"""
            INSERT INTO compute.devices (device_id, name, type, owner, cpu_cores, memory_bytes, policy, state, state_reason, state_changed_at, registered_at, last_heartbeat_at)
            VALUES (@deviceId, @Name, @Type, @Owner, @CpuCores, @MemoryBytes, @policy::jsonb, 'suspended', 'registered; waiting for a heartbeat', @now, @now, @now)
            ON CONFLICT (device_id) DO UPDATE SET name = @Name, type = @Type, owner = @Owner, cpu_cores = @CpuCores, memory_bytes = @MemoryBytes,
                policy = @policy::jsonb, last_heartbeat_at = @now
            RETURNING {Columns}
            """, new
        {
            deviceId = Guid.Parse(request.DeviceId), request.Name, request.Type, request.Owner, request.CpuCores, request.MemoryBytes,
            policy = JsonFormatter.Default.Format(policy), now,
        }, cancellationToken))!.ToMessage();

    /// <summary>Records a heartbeat and the policy's decision; returns the device and the state it had before, or null if unknown.</summary>
    public async Task<(Device Device, string Previous)?> HeartbeatAsync(Guid deviceId, DeviceHeartbeatRequest heartbeat,
        Func<HarvestPolicy, (string State, string Reason)> decide, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var current = (await connection.QuerySingleOrDefaultAsync<DeviceRow>(transaction.In(
            $"SELECT {Columns} FROM compute.devices WHERE device_id = @deviceId FOR UPDATE", new { deviceId }, cancellationToken)))?.ToMessage();
        if (current is null) return null;

        var (state, reason) = decide(current.Policy);
        // Time offered accrues between heartbeats while the device stayed offered.
        var offeredFor = current.State == "offered" ? Math.Max(0, (now - DateTimeOffset.FromUnixTimeMilliseconds(current.LastHeartbeatAtMs)).TotalSeconds) : 0;
        var device = (await connection.QuerySingleAsync<DeviceRow>(transaction.In($"""
            UPDATE compute.devices SET idle_seconds = @IdleSeconds, cpu_load = @CpuLoad, battery_percent = @battery, charging = @Charging,
                temperature_c = @temperature, last_heartbeat_at = @now, state = @state, state_reason = @reason,
                state_changed_at = CASE WHEN state <> @state THEN @now ELSE state_changed_at END, offered_seconds = offered_seconds + @offeredFor
            WHERE device_id = @deviceId RETURNING {Columns}
            """, new
        {
            deviceId, heartbeat.IdleSeconds, heartbeat.CpuLoad, battery = heartbeat.HasBatteryPercent ? heartbeat.BatteryPercent : (double?)null,
            heartbeat.Charging, temperature = heartbeat.HasTemperatureC ? heartbeat.TemperatureC : (double?)null, now, state, reason, offeredFor,
        }, cancellationToken))).ToMessage();
        await transaction.CommitAsync(cancellationToken);
        return (device, current.State);
    }

    public async Task<Device?> SetPolicyAsync(Guid deviceId, HarvestPolicy policy, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<DeviceRow>($"UPDATE compute.devices SET policy = @policy::jsonb WHERE device_id = @deviceId RETURNING {Columns}",
            new { deviceId, policy = JsonFormatter.Default.Format(policy) }, cancellationToken))?.ToMessage();

    /// <summary>Devices silent since <paramref name="before"/> become offline; returns them.</summary>
    public async Task<IReadOnlyList<Device>> MarkOfflineAsync(DateTimeOffset before, DateTimeOffset now, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<DeviceRow>($"""
            UPDATE compute.devices SET state = 'offline', state_reason = 'no heartbeat since ' || to_char(last_heartbeat_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                state_changed_at = @now
            WHERE state <> 'offline' AND last_heartbeat_at < @before RETURNING {Columns}
            """, new { before, now }, cancellationToken)).Select(row => row.ToMessage())];

    public async Task<Device?> DeleteAsync(Guid deviceId, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<DeviceRow>($"DELETE FROM compute.devices WHERE device_id = @deviceId RETURNING {Columns}", new { deviceId }, cancellationToken))?.ToMessage();

    public async Task<Device?> GetAsync(Guid deviceId, CancellationToken cancellationToken) =>
        (await db.QuerySingleOrDefaultAsync<DeviceRow>($"SELECT {Columns} FROM compute.devices WHERE device_id = @deviceId", new { deviceId }, cancellationToken))?.ToMessage();

    public async Task<IReadOnlyList<Device>> ListAsync(string state, string owner, CancellationToken cancellationToken) =>
        [.. (await db.QueryAsync<DeviceRow>($"SELECT {Columns} FROM compute.devices WHERE (@state = '' OR state = @state) AND (@owner = '' OR owner = @owner) ORDER BY name",
            new { state, owner }, cancellationToken)).Select(row => row.ToMessage())];

    /// <summary>A row of <see cref="Columns"/>, mapped by column name.</summary>
    sealed record DeviceRow
    {
        public Guid DeviceId { get; init; }
        public string Name { get; init; } = "";
        public string Type { get; init; } = "";
        public string Owner { get; init; } = "";
        public int CpuCores { get; init; }
        public long MemoryBytes { get; init; }
        public string Policy { get; init; } = "{}";
        public string State { get; init; } = "";
        public string StateReason { get; init; } = "";
        public DateTimeOffset StateChangedAt { get; init; }
        public long IdleSeconds { get; init; }
        public double CpuLoad { get; init; }
        public double? BatteryPercent { get; init; }
        public bool Charging { get; init; }
        public double? TemperatureC { get; init; }
        public DateTimeOffset LastHeartbeatAt { get; init; }
        public DateTimeOffset RegisteredAt { get; init; }
        public double OfferedSeconds { get; init; }

        public Device ToMessage()
        {
            var device = new Device
            {
                DeviceId = DeviceId.ToString(), Name = Name, Type = Type, Owner = Owner, CpuCores = CpuCores, MemoryBytes = MemoryBytes,
                Policy = HarvestPolicy.Parser.ParseJson(Policy), State = State, StateReason = StateReason,
                StateChangedAtMs = StateChangedAt.ToUnixTimeMilliseconds(), IdleSeconds = IdleSeconds, CpuLoad = CpuLoad, Charging = Charging,
                LastHeartbeatAtMs = LastHeartbeatAt.ToUnixTimeMilliseconds(), RegisteredAtMs = RegisteredAt.ToUnixTimeMilliseconds(),
                OfferedHours = OfferedSeconds / 3600,
            };
            if (BatteryPercent is { } battery) device.BatteryPercent = battery;
            if (TemperatureC is { } temperature) device.TemperatureC = temperature;
            return device;
        }
    }
}
