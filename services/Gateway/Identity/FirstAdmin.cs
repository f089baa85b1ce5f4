using Microsoft.Extensions.Options;

namespace Platform.Gateway.Identity;

/// <summary>
/// Makes sure an <c>admin</c> exists once the schema does: created with the initial password (the AppHost generates
/// one at the first start and keeps it in a 0600 file, as Jenkins does), or — when the operator sets
/// <c>Platform__AdminPassword</c> — given that password, role and an enabled account at every start. No default
/// password exists anywhere.
/// </summary>
public sealed class FirstAdmin(UserStore users, IOptions<IdentityOptions> options, ILogger<FirstAdmin> logger) : IHostedService
{
    public const string Username = "admin";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.AdminPassword is { Length: > 0 } password)
        {
            var hash = PasswordHasher.Hash(password);
            if (!await users.CreateAsync(Username, hash, "admin", cancellationToken))
            {
                await users.SetPasswordAsync(Username, hash, cancellationToken);
                await users.UpdateAsync(Username, "admin", disabled: false, cancellationToken);
            }
            logger.LogInformation("The admin user's password is the one configured (Platform__AdminPassword)");
        }
        else if (options.Value.InitialAdminPasswordFile is { Length: > 0 } file && File.Exists(file)
                 && await users.CreateAsync(Username, PasswordHasher.Hash((await File.ReadAllTextAsync(file, cancellationToken)).Trim()), "admin", cancellationToken))
            logger.LogInformation("Created the admin user with the initial password in {File}", file);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
