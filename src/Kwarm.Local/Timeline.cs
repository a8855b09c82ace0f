using System.Diagnostics;
using System.Globalization;

namespace Kwarm.Local;

/// <summary>The guided run's output: one line per event, stamped with the time since the run started.</summary>
public sealed class Timeline(TextWriter output)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public TimeSpan Now => _clock.Elapsed;

    public void Say(string text) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {text}"));

    public void Note(string text) => output.WriteLine("          " + text);

    public static string Seconds(TimeSpan span) => string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0} s");
}
