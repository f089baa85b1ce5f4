namespace Platform.IntegrationTests;

/// <summary>One platform shared by the tests that only read from it.</summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    public PlatformProcess Platform { get; private set; } = null!;

    public async Task InitializeAsync() => Platform = await PlatformProcess.StartAsync();

    public async Task DisposeAsync() => await Platform.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}
