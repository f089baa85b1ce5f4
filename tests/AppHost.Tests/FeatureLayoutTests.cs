using System.Text.RegularExpressions;

namespace Platform.AppHost.Tests;

/// <summary>
/// The layout every service keeps, read from the sources: each feature is one folder, and no folder depends on
/// another that depends back on it (a `using` of its namespace or a reference qualified by its name). In Compute,
/// SQL lives only in stores (files named *Store.cs or *Rows.cs), and no Compute, NodeAgent or Scheduler file grows past 300 lines.
/// </summary>
public sealed partial class FeatureLayoutTests
{
    static readonly string Services = Path.Combine(RepositoryRoot(), "services");

    public static TheoryData<string> ServiceNames() => [.. Directory.GetDirectories(Services).Select(Path.GetFileName).OfType<string>()];

    [Theory]
    [MemberData(nameof(ServiceNames))]
    public void No_feature_folder_depends_on_one_that_depends_back_on_it(string service)
    {
        var graph = FolderDependencies(service);

        var cycles = graph.Keys.SelectMany(from => graph[from].Where(to => Reaches(graph, to, from)).Select(to => $"{from} -> {to}")).ToList();

        Assert.True(cycles.Count == 0, $"{service} has folders that depend on each other: {string.Join(", ", cycles)}");
    }

    [Fact]
    public void Compute_has_SQL_only_in_its_stores()
    {
        var outside = SourceFiles("Compute")
            .Where(file => !Regex.IsMatch(Path.GetFileName(file), "(Store|Rows)\\.cs$") && Sql().IsMatch(File.ReadAllText(file)))
            .Select(file => Path.GetRelativePath(Services, file)).ToList();

        Assert.True(outside.Count == 0, $"SQL outside a store: {string.Join(", ", outside)}");
    }

    [Theory]
    [InlineData("Compute")]
    [InlineData("NodeAgent")]
    [InlineData("Scheduler")]
    public void No_file_is_longer_than_300_lines(string service)
    {
        var long_ = SourceFiles(service).Select(file => (file, lines: File.ReadLines(file).Count())).Where(f => f.lines > 300)
            .Select(f => $"{Path.GetRelativePath(Services, f.file)} ({f.lines})").ToList();

        Assert.True(long_.Count == 0, $"Files over 300 lines: {string.Join(", ", long_)}");
    }

    /// <summary>For each top-level folder of the service, the other folders its files name.</summary>
    static Dictionary<string, HashSet<string>> FolderDependencies(string service)
    {
        var root = Path.Combine(Services, service);
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Where(f => f is not ("bin" or "obj")).ToHashSet();
        var graph = folders.ToDictionary(f => f, _ => new HashSet<string>());
        foreach (var folder in folders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var text = File.ReadAllText(file);
                foreach (var other in folders.Where(other => other != folder))
                    if (Regex.IsMatch(text, $@"\bPlatform\.{service}\.{other}\b") || Regex.IsMatch(text, $@"(?<![\w.]){other}\.[A-Z]\w*\b(?!\s*=)"))
                        graph[folder].Add(other);
            }
        return graph;
    }

    static bool Reaches(Dictionary<string, HashSet<string>> graph, string from, string to)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var next))
        {
            if (next == to) return true;
            if (seen.Add(next)) foreach (var dependency in graph[next]) pending.Push(dependency);
        }
        return false;
    }

    static IEnumerable<string> SourceFiles(string service) =>
        Directory.EnumerateFiles(Path.Combine(Services, service), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) return dir.FullName;
        throw new InvalidOperationException("Platform.sln not found above the test's folder");
    }

    [GeneratedRegex(@"\b(SELECT\s.+\sFROM|INSERT INTO|UPDATE\s+\w+\.\w+\s+SET|DELETE FROM)\b", RegexOptions.Singleline)]
    private static partial Regex Sql();
}
