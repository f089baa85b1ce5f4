using System.Diagnostics;
using Platform.NodeAgent.Machine;
using Platform.NodeAgent.Migration;

namespace Platform.NodeAgent.Tests;

/// <summary>What a hostile workload can plant in its folder, opened the way the agent opens it: nothing but regular files are read.</summary>
public sealed class UntrustedFilesTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("untrusted-").FullName;
    public void Dispose() => Directory.Delete(folder, recursive: true);

    string Plant(string name) => Path.Combine(folder, name);

    static void MakeFifo(string path) => Process.Start("mkfifo", [path])!.WaitForExit();

    [Fact]
    public void A_regular_file_is_read_and_a_missing_one_is_null()
    {
        File.WriteAllText(Plant("stdout.log"), "hello");

        Assert.Equal("hello", UntrustedFiles.ReadAllText(Plant("stdout.log")));
        Assert.Null(UntrustedFiles.OpenRead(Plant("missing.log")));
    }

    [Fact]
    public void A_symlink_to_a_host_file_is_refused_not_followed()
    {
        File.CreateSymbolicLink(Plant("stdout.log"), "/etc/hostname");

        var refused = Assert.Throws<UntrustedFileException>(() => UntrustedFiles.OpenRead(Plant("stdout.log")));

        Assert.Equal("stdout.log is a symbolic link", refused.Message);
    }

    [Fact]
    public void A_fifo_or_a_directory_is_refused_at_once_without_blocking_a_thread()
    {
        MakeFifo(Plant("exit_code"));
        Directory.CreateDirectory(Plant("stderr.log"));

        // A FIFO with no writer would block a plain open forever; this returns at once.
        Assert.Equal("exit_code is not a regular file", Assert.Throws<UntrustedFileException>(() => UntrustedFiles.OpenRead(Plant("exit_code"))).Message);
        Assert.Equal("stderr.log is not a regular file", Assert.Throws<UntrustedFileException>(() => UntrustedFiles.OpenRead(Plant("stderr.log"))).Message);
    }

    [Fact]
    public void A_migration_sends_only_the_regular_files_of_a_folder_with_links_and_fifos_planted_in_it()
    {
        File.WriteAllText(Plant("state.txt"), "mine");
        File.CreateSymbolicLink(Plant("shadow"), "/etc/hostname");
        MakeFifo(Plant("pipe"));

        var manifest = FolderManifest.Build(folder);

        Assert.Equal(["state.txt"], manifest.Files.Select(f => f.Path));
    }
}
