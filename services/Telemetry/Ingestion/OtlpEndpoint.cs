using System.IO.Compression;
using Google.Protobuf;
using Grpc.Core;
using Code = Google.Rpc.Code;
using Platform.ServiceDefaults.Auth;
using Platform.Telemetry.Otlp;
using Platform.Telemetry.Storage;

namespace Platform.Telemetry.Ingestion;

/// <summary>
/// OTLP/HTTP metrics receiver: <c>POST /v1/metrics</c>, binary protobuf or JSON, optionally gzip-compressed, answered
/// in the request's encoding. Samples pass the same validation as agents' batches: a bad one refuses the whole request
/// with 400 and a google.rpc.Status naming it (not retried by exporters); unsupported metric types are reported as a
/// partial success. Samples are stored at least once: OTLP carries no sequence to recognise a retry by.
/// </summary>
public static class OtlpEndpoint
{
    const int MaxBodyBytes = 16 << 20;
    static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static IEndpointRouteBuilder MapOtlpMetrics(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/metrics", ReceiveAsync).RequireAuthorization(PlatformPolicies.Agent);
        return app;
    }

    static async Task ReceiveAsync(HttpContext http, SampleWriter writer, SeriesInterner series, IngestionLimits limits, DeltaTotals totals, TimeProvider clock)
    {
        var request = http.Request;
        var json = request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
        if (!json && request.ContentType?.StartsWith("application/x-protobuf", StringComparison.OrdinalIgnoreCase) != true)
        {
            await RespondAsync(http, json, StatusCodes.Status415UnsupportedMediaType, Error(Code.InvalidArgument, "Content-Type must be application/x-protobuf or application/json"));
            return;
        }

        ExportMetricsServiceRequest export;
        try
        {
            var body = await ReadBodyAsync(request, http.RequestAborted);
            export = json ? Parser.Parse<ExportMetricsServiceRequest>(System.Text.Encoding.UTF8.GetString(body)) : ExportMetricsServiceRequest.Parser.ParseFrom(body);
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidDataException or InvalidJsonException or FormatException)
        {
            await RespondAsync(http, json, StatusCodes.Status400BadRequest, Error(Code.InvalidArgument, $"not an ExportMetricsServiceRequest: {ex.Message}"));
            return;
        }
        catch (BadHttpRequestException ex)
        {
            await RespondAsync(http, json, ex.StatusCode, Error(Code.InvalidArgument, ex.Message));
            return;
        }

        var now = clock.GetUtcNow();
        OtlpConversion conversion;
        try
        {
            conversion = OtlpMetricsConverter.Convert(export, now);
        }
        catch (OtlpTooLargeException ex)
        {
            await RespondAsync(http, json, ex.Status, Error(Code.InvalidArgument, ex.Message));
            return;
        }
        if (conversion.Batch.Samples.Count > 0)
        {
            try
            {
                NodeLabels.EnsureCallerMayClaim(http.User, conversion.Batch);
                var samples = SampleBatchValidator.Validate(conversion.Batch, now, series);
                limits.Admit(IngestionLimits.SenderOf(http), samples);
                var (accumulated, undo) = conversion.Accumulate(samples, totals);
                try
                {
                    await writer.WriteUnsequencedAsync(IngestionLimits.SenderOf(http), accumulated, http.RequestAborted);
                }
                catch
                {
                    undo();
                    throw;
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
            {
                await RespondAsync(http, json, StatusCodes.Status429TooManyRequests, Error(Code.ResourceExhausted, ex.Status.Detail));
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.PermissionDenied)
            {
                await RespondAsync(http, json, StatusCodes.Status403Forbidden, Error(Code.PermissionDenied, ex.Status.Detail));
                return;
            }
            catch (RpcException ex)
            {
                await RespondAsync(http, json, StatusCodes.Status400BadRequest, Error(Code.InvalidArgument, ex.Status.Detail));
                return;
            }
            catch (Npgsql.NpgsqlException)
            {
                // Retryable for an OTLP exporter, which sends the same data again.
                await RespondAsync(http, json, StatusCodes.Status503ServiceUnavailable, Error(Code.Unavailable, "storage is unavailable; retry"));
                return;
            }
        }

        var response = new ExportMetricsServiceResponse();
        if (conversion.Rejected > 0)
            response.PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = conversion.Rejected, ErrorMessage = string.Join("; ", conversion.Problems) };
        await RespondAsync(http, json, StatusCodes.Status200OK, response);
    }

    static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
            throw new BadHttpRequestException($"the body may be at most {MaxBodyBytes >> 20} MiB", StatusCodes.Status413PayloadTooLarge);
        var source = string.Equals(request.Headers.ContentEncoding, "gzip", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(request.Body, CompressionMode.Decompress)
            : request.Body;
        await using var _ = source;
        using var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > MaxBodyBytes)
                throw new BadHttpRequestException($"the body may be at most {MaxBodyBytes >> 20} MiB", StatusCodes.Status413PayloadTooLarge);
        }
        return body.ToArray();
    }

    static Google.Rpc.Status Error(Code code, string message) => new() { Code = (int)code, Message = message };

    static async Task RespondAsync(HttpContext http, bool json, int status, IMessage message)
    {
        http.Response.StatusCode = status;
        if (json)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(JsonFormatter.Default.Format(message));
        }
        else
        {
            http.Response.ContentType = "application/x-protobuf";
            await http.Response.Body.WriteAsync(message.ToByteArray());
        }
    }
}
