namespace Platform.IntegrationTests;

/// <summary>
/// One platform shared by the tests that only read from it. Its agents run VMs with TCG alone, as every node without
/// /dev/kvm does, so the qemu path the CI machines take is the one tested wherever the suite runs.
/// </summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    public PlatformProcess Platform { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Platform = await PlatformProcess.StartAsync(environment: new Dictionary<string, string> { ["NodeAgent__Qemu__Accelerators"] = "tcg" });

    public async Task DisposeAsync() => await Platform.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}
