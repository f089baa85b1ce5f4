using Platform.ServiceDefaults.Security;

namespace Platform.ServiceDefaults.Tests;

public sealed class SecretFilesTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("secrets-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void A_secret_file_is_0600_from_its_creation_and_replaced_whole_with_nothing_left_beside_it()
    {
        var path = Path.Combine(folder, "key.pem");
        var created = new List<UnixFileMode>();
        using var watcher = new FileSystemWatcher(folder) { IncludeSubdirectories = false, EnableRaisingEvents = true };
        watcher.Created += (_, e) => { try { created.Add(File.GetUnixFileMode(e.FullPath)); } catch (IOException) { } };

        SecretFiles.Write(path, "first");
        SecretFiles.Write(path, "second");

        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(["key.pem"], Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.All(created, mode => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode));
    }
}
