using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Platform.Telemetry.Ingestion;
using Platform.Telemetry.Storage;
using Platform.Telemetry.V1;

namespace Platform.Telemetry.Agents;

/// <summary>
/// One agent on the seeds' WebSocket protocol: JSON messages <c>{type, data, timestamp}</c>. The agent sends
/// <c>registration</c>, <c>metrics</c>, <c>status</c> and <c>pong</c>; the server sends <c>config</c> (on connect and on
/// change), <c>ping</c> every 15 s, and for every message an <c>ack</c> or an <c>error</c> naming what was wrong. A
/// metrics message with a <c>sequence</c> is stored exactly once; without one, at least once.
/// </summary>
public sealed class WebSocketAgentSession(
    string agentId, System.Security.Claims.ClaimsPrincipal caller, WebSocket socket, AgentStore agents, SampleWriter writer, SeriesInterner series, IngestionLimits limits,
    TimeProvider clock, ILogger logger)
{
    public const int MaxMessageBytes = 1 << 20;
    static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(15);
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly SemaphoreSlim sending = new(1, 1);

    public string AgentId => agentId;

    public async Task RunAsync(JsonElement config, CancellationToken cancellationToken)
    {
        await PushConfigAsync(config);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pinging = PingAsync(stop.Token);
        try
        {
            while (await ReceiveAsync(stop.Token) is { } text)
            {
                await agents.TouchAsync(agentId, clock.GetUtcNow(), stop.Token);
                await HandleAsync(text, stop.Token);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await pinging;
        }
    }

    public Task PushConfigAsync(JsonElement config) =>
        SendAsync("config", config.ValueKind == JsonValueKind.Undefined ? new { } : config, CancellationToken.None);

    async Task HandleAsync(string text, CancellationToken cancellationToken)
    {
        JsonElement message;
        try
        {
            using var document = JsonDocument.Parse(text);
            message = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            await ErrorAsync("malformed", $"not JSON: {ex.Message}", null, cancellationToken);
            return;
        }
        var type = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        var data = message.ValueKind == JsonValueKind.Object && message.TryGetProperty("data", out var d) ? d : default;
        switch (type)
        {
            case "registration":
                await agents.RegisterAsync(Registration(data), clock.GetUtcNow(), cancellationToken);
                await SendAsync("ack", new { of = "registration" }, cancellationToken);
                break;
            case "metrics":
                await MetricsAsync(data, cancellationToken);
                break;
            case "status":
                await SendAsync("ack", new { of = "status" }, cancellationToken);
                break;
            case "pong":
                break;
            default:
                await ErrorAsync("unknown_type", "type must be registration, metrics, status or pong", null, cancellationToken);
                break;
        }
    }

    async Task MetricsAsync(JsonElement data, CancellationToken cancellationToken)
    {
        SampleBatch batch;
        long? sequence;
        try
        {
            (batch, sequence) = ToBatch(data);
        }
        catch (FormatException ex)
        {
            await ErrorAsync("invalid_argument", ex.Message, null, cancellationToken);
            return;
        }

        IReadOnlyList<StoredSample> samples;
        try
        {
            NodeLabels.EnsureCallerMayClaim(caller, batch);
            samples = SampleBatchValidator.Validate(batch, clock.GetUtcNow(), series);
            limits.Admit(agentId, samples);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied)
        {
            await ErrorAsync("permission_denied", ex.Status.Detail, null, cancellationToken);
            return;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
        {
            await ErrorAsync("resource_exhausted", ex.Status.Detail, null, cancellationToken);
            return;
        }
        catch (RpcException ex)
        {
            var violations = ex.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>()?.FieldViolations.Select(v => new { field = v.Field, description = v.Description });
            await ErrorAsync("invalid_argument", ex.Status.Detail, violations, cancellationToken);
            return;
        }

        if (sequence is { } numbered)
        {
            var result = await writer.WriteBatchAsync(agentId, epoch: 0, numbered, samples, cancellationToken);
            await SendAsync("ack", new { of = "metrics", sequence = numbered, accepted = result.Accepted, duplicate = result.Duplicate }, cancellationToken);
        }
        else
        {
            await writer.WriteUnsequencedAsync(agentId, samples, cancellationToken);
            await SendAsync("ack", new { of = "metrics", accepted = samples.Count, duplicate = false }, cancellationToken);
        }
    }

    /// <summary><c>{sequence?, metrics: [{name, value, labels?, timestamp?}]}</c>; a timestamp is epoch milliseconds or ISO 8601.</summary>
    (SampleBatch Batch, long? Sequence) ToBatch(JsonElement data)
    {
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("metrics", out var metrics) || metrics.ValueKind != JsonValueKind.Array)
            throw new FormatException("data.metrics must be an array");
        long? sequence = data.TryGetProperty("sequence", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var n) ? n : null;
        if (sequence is <= 0) throw new FormatException("data.sequence must be positive");

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var batch = new SampleBatch { AgentId = agentId, Sequence = (ulong)(sequence ?? 1) };
        var index = 0;
        foreach (var metric in metrics.EnumerateArray())
        {
            var field = $"data.metrics[{index++}]";
            if (metric.ValueKind != JsonValueKind.Object) throw new FormatException($"{field} must be an object");
            var sample = new Sample
            {
                Name = metric.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "",
                Value = metric.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble()
                    : throw new FormatException($"{field}.value must be a number"),
                TimestampMs = metric.TryGetProperty("timestamp", out var at) ? Milliseconds(at, field) : now,
            };
            if (metric.TryGetProperty("labels", out var labels) && labels.ValueKind == JsonValueKind.Object)
                foreach (var label in labels.EnumerateObject())
                    sample.Labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : label.Value.GetRawText();
            batch.Samples.Add(sample);
        }
        return (batch, sequence);
    }

    static long Milliseconds(JsonElement timestamp, string field) => timestamp.ValueKind switch
    {
        JsonValueKind.Number when timestamp.TryGetInt64(out var ms) => ms,
        JsonValueKind.String when DateTimeOffset.TryParse(timestamp.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) => at.ToUnixTimeMilliseconds(),
        _ => throw new FormatException($"{field}.timestamp must be epoch milliseconds or an ISO 8601 time"),
    };

    AgentRegistration Registration(JsonElement data)
    {
        string Text(string name) => data.ValueKind == JsonValueKind.Object && data.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
        var labels = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Object
            ? l.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
            : [];
        return new(agentId, Text("node"), Text("hostname"), Text("provider"), Text("region"), Text("version"), labels);
    }

    async Task PingAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PingInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
                await SendAsync("ping", new { }, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
        }
    }

    Task ErrorAsync(string code, string message, object? violations, CancellationToken cancellationToken) =>
        SendAsync("error", new { code, message, violations }, cancellationToken);

    async Task SendAsync(string type, object data, CancellationToken cancellationToken)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new { type, data, timestamp = clock.GetUtcNow() }, Json);
        await sending.WaitAsync(cancellationToken);
        try
        {
            if (socket.State == WebSocketState.Open)
                await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            sending.Release();
        }
    }

    /// <summary>The next text message, reassembled from its frames; null once the agent closes.</summary>
    async Task<string?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return null;
            }
            message.Write(buffer, 0, result.Count);
            if (message.Length > MaxMessageBytes)
            {
                logger.LogWarning("Agent {AgentId} sent a message over {Limit} bytes; closing", agentId, MaxMessageBytes);
                await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, $"messages are at most {MaxMessageBytes} bytes", CancellationToken.None);
                return null;
            }
            if (result.EndOfMessage) return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
        }
    }
}
