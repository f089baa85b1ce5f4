using Npgsql;
using Platform.Scheduler.V1;

namespace Platform.Scheduler.Jobs;

/// <summary>The <c>scheduler.jobs</c> table.</summary>
public sealed class JobStore(NpgsqlDataSource db)
{
    public async Task<IReadOnlyList<Job>> ListAsync(CancellationToken cancellationToken)
    {
        await using var command = db.CreateCommand("SELECT job_id, name, status, submitted_at FROM scheduler.jobs ORDER BY submitted_at DESC");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var jobs = new List<Job>();
        while (await reader.ReadAsync(cancellationToken))
            jobs.Add(new Job
            {
                JobId = reader.GetGuid(0).ToString(),
                Name = reader.GetString(1),
                Status = reader.GetString(2),
                SubmittedAtMs = reader.GetFieldValue<DateTimeOffset>(3).ToUnixTimeMilliseconds(),
            });
        return jobs;
    }
}
