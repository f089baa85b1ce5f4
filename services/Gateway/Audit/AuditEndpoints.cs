using System.Globalization;
using System.Text;
using Platform.Gateway.Identity;
using Platform.ServiceDefaults.Auth;

namespace Platform.Gateway.Audit;

/// <summary>The audit log for admins: filtered pages, a CSV export, and verification of the chain and its signed heads.</summary>
public static class AuditEndpoints
{
    const int PageSize = 100;

    public static void MapAudit(this IEndpointRouteBuilder app)
    {
        var audit = app.MapGroup("/api/audit").RequireAuthorization(PlatformPolicies.Admin);
        audit.MapGet("", PageAsync);
        audit.MapGet("/export.csv", ExportAsync);
        audit.MapPost("/verify", async (AuditVerification verification, CancellationToken ct) => Results.Ok(await verification.VerifyAsync(ct)));
    }

    static async Task<IResult> PageAsync(AuditLog log, string? user, string? action, string? since, string? until, string? pageToken, CancellationToken cancellationToken)
    {
        var (filters, error) = Filters(since, until, pageToken);
        if (error is not null) return error;
        var events = await log.QueryAsync(user, action, filters.Since, filters.Until, filters.After, PageSize, cancellationToken);
        return Results.Ok(new
        {
            events,
            nextPageToken = events.Count == PageSize ? Convert.ToBase64String(Encoding.UTF8.GetBytes(events[^1].Seq.ToString(CultureInfo.InvariantCulture))) : "",
        });
    }

    static async Task ExportAsync(HttpContext context, AuditLog log, string? user, string? action, string? since, string? until, CancellationToken cancellationToken)
    {
        var (filters, error) = Filters(since, until, null);
        if (error is not null)
        {
            await error.ExecuteAsync(context);
            return;
        }
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"audit.csv\"";
        await context.Response.WriteAsync("seq,at,actor,role,action,target,status,client_ip,user_agent,request_id\n", cancellationToken);
        for (long after = 0; ;)
        {
            var page = await log.QueryAsync(user, action, filters.Since, filters.Until, after, 1000, cancellationToken);
            foreach (var e in page)
                await context.Response.WriteAsync(string.Join(',', new[] { e.Seq.ToString(CultureInfo.InvariantCulture), e.At.ToString("O", CultureInfo.InvariantCulture),
                    e.Actor, e.Role, e.Action, e.Target, e.Status.ToString(CultureInfo.InvariantCulture), e.ClientIp, e.UserAgent, e.RequestId }.Select(Csv)) + "\n", cancellationToken);
            if (page.Count < 1000) break;
            after = page[^1].Seq;
        }
    }

    static ((DateTimeOffset? Since, DateTimeOffset? Until, long After), IResult?) Filters(string? since, string? until, string? pageToken)
    {
        var violations = new List<(string, string)>();
        DateTimeOffset? Time(string? text, string field)
        {
            if (string.IsNullOrEmpty(text)) return null;
            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)) return at;
            violations.Add((field, "must be an ISO 8601 time"));
            return null;
        }
        var after = 0L;
        if (!string.IsNullOrEmpty(pageToken))
        {
            try { after = long.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(pageToken)), CultureInfo.InvariantCulture); }
            catch (FormatException) { violations.Add(("pageToken", "is not a token this API gave")); }
        }
        var filters = (Time(since, "since"), Time(until, "until"), after);
        return (filters, violations.Count > 0 ? ApiErrors.BadRequest([.. violations]) : null);
    }

    /// <summary>RFC 4180 quoting, and a leading quote for what a spreadsheet would run as a formula.</summary>
    static string Csv(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r') value = "'" + value;
        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
    }
}
