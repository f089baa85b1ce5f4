using Google.Protobuf;
using Grpc.Core;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.PrometheusRemote;
using Platform.Telemetry.Storage;
using Snappier;

namespace Platform.Telemetry.Ingestion;

/// <summary>
/// Prometheus remote write 1.0 receiver: <c>POST /api/v1/write</c>, a snappy block-compressed protobuf WriteRequest.
/// The samples pass the same validation as agents' batches (non-finite values, which include Prometheus' staleness
/// markers, are skipped); a refused request stores nothing and is answered with 400
/// (which Prometheus does not retry), a storage failure with 503 (which it does). The body's series, labels and samples
/// are counted on the wire before the message is built (<see cref="RemoteWriteShape"/>): more than 10,000 samples is a
/// 413, more than 32 labels on a series a 400, whatever the compression ratio.
/// </summary>
public static class RemoteWriteEndpoint
{
    const int MaxCompressedBytes = 16 << 20;
    const int MaxDecompressedBytes = 64 << 20;

    public static IEndpointRouteBuilder MapRemoteWrite(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/write", ReceiveAsync).RequireAuthorization(PlatformPolicies.Agent);
        return app;
    }

    static async Task<IResult> ReceiveAsync(
        HttpRequest request, SampleWriter writer, SeriesInterner series, IngestionLimits limits, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!string.Equals(request.Headers.ContentEncoding, "snappy", StringComparison.OrdinalIgnoreCase))
            return Refuse(StatusCodes.Status415UnsupportedMediaType, "Content-Encoding must be snappy (Prometheus remote write 1.0)");
        if (request.ContentLength > MaxCompressedBytes)
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"the body may be at most {MaxCompressedBytes >> 20} MiB");

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken);
        if (body.Length > MaxCompressedBytes)
            return Refuse(StatusCodes.Status413PayloadTooLarge, $"the body may be at most {MaxCompressedBytes >> 20} MiB");

        WriteRequest write;
        try
        {
            var compressed = body.GetBuffer().AsSpan(0, (int)body.Length);
            if (Snappy.GetUncompressedLength(compressed) > MaxDecompressedBytes)
                return Refuse(StatusCodes.Status413PayloadTooLarge, $"the decompressed body may be at most {MaxDecompressedBytes >> 20} MiB");
            var decompressed = Snappy.DecompressToArray(compressed);
            // Counted on the wire first: the message is built only once it is known to fit.
            if (RemoteWriteShape.Check(decompressed, SampleBatchValidator.MaxSamplesPerBatch, SampleBatchValidator.MaxLabelsPerSample) is { } refused)
                return Refuse(refused.Status, refused.Reason);
            write = WriteRequest.Parser.ParseFrom(decompressed);
        }
        catch (Exception ex) when (ex is InvalidDataException or InvalidProtocolBufferException or ArgumentException)
        {
            return Refuse(StatusCodes.Status400BadRequest, $"the body is not a snappy-compressed WriteRequest: {ex.Message}");
        }

        IReadOnlyList<StoredSample> samples;
        try
        {
            var batch = ToBatch(write);
            NodeLabels.EnsureCallerMayClaim(request.HttpContext.User, batch);
            samples = SampleBatchValidator.Validate(batch, clock.GetUtcNow(), series);
            limits.Admit(IngestionLimits.SenderOf(request.HttpContext), samples);
        }
        catch (RpcException ex)
        {
            return Refuse(ex.StatusCode switch
            {
                StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests, StatusCode.PermissionDenied => StatusCodes.Status403Forbidden, _ => StatusCodes.Status400BadRequest,
            }, ex.Status.Detail);
        }

        try
        {
            await writer.WriteUnsequencedAsync(IngestionLimits.SenderOf(request.HttpContext), samples, cancellationToken);
        }
        catch (Npgsql.NpgsqlException)
        {
            return Refuse(StatusCodes.Status503ServiceUnavailable, "storage is unavailable; retry");
        }
        return Results.NoContent();
    }

    // Samples are numbered in the order they appear across all time series, as the validator reports them. NaN values
    // are Prometheus' staleness markers (a series ended), not measurements: they are skipped, as the scraper skips them.
    static V1.SampleBatch ToBatch(WriteRequest write)
    {
        var batch = new V1.SampleBatch { AgentId = "remote_write", Sequence = 1 };
        foreach (var series in write.Timeseries)
        {
            var name = series.Labels.FirstOrDefault(l => l.Name == "__name__")?.Value ?? "";
            foreach (var point in series.Samples.Where(p => double.IsFinite(p.Value)))
            {
                var sample = new V1.Sample { Name = name, Value = point.Value, TimestampMs = point.Timestamp };
                foreach (var label in series.Labels)
                    if (label.Name != "__name__") sample.Labels[label.Name] = label.Value;
                batch.Samples.Add(sample);
            }
        }
        return batch;
    }

    static IResult Refuse(int status, string detail) => Results.Problem(detail: detail, statusCode: status, title: "Remote write refused");
}
