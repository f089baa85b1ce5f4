using System.Security.Claims;
using Platform.ServiceDefaults.Auth;

namespace Platform.Scheduler.Jobs;

/// <summary>Who sees which jobs: operators, admins and services every job; anyone else (a viewer) only their own.</summary>
public static class JobVisibility
{
    public static bool SeesAll(ClaimsPrincipal user) => user.IsInRole("operator") || user.IsInRole("admin") || user.IsInRole("service");

    public static bool MaySee(ClaimsPrincipal user, JobRow job) => SeesAll(user) || job.Owner == Callers.Name(user);
}
