namespace Platform.AppHost.Hosting;

/// <summary>The AppHost's console: every line of a resource's output prefixed with its name, one writer at a time.</summary>
public sealed class ResourceConsole
{
    static readonly ConsoleColor[] Palette = [ConsoleColor.Cyan, ConsoleColor.Green, ConsoleColor.Yellow, ConsoleColor.Magenta, ConsoleColor.Blue, ConsoleColor.DarkCyan, ConsoleColor.DarkGreen, ConsoleColor.DarkYellow];
    readonly Lock gate = new();
    readonly Dictionary<string, ConsoleColor> colors = [];
    readonly bool useColor = !Console.IsOutputRedirected;
    int width = 10;

    public void Register(string name)
    {
        lock (gate)
        {
            colors.TryAdd(name, Palette[colors.Count % Palette.Length]);
            width = Math.Max(width, name.Length);
        }
    }

    public void Line(string resource, string text)
    {
        lock (gate)
        {
            if (useColor && colors.TryGetValue(resource, out var color)) Console.ForegroundColor = color;
            Console.Write(resource.PadRight(width));
            if (useColor) Console.ResetColor();
            Console.Write(" | ");
            Console.WriteLine(text);
        }
    }

    public void AppHost(string text) => Line("apphost", text);
}
