using System.Globalization;
using System.Text.RegularExpressions;

namespace Kwarm.Benchmarks;

/// <summary>
/// What Kwarm's own log says about one hold, at Kwarm's timestamps: its last "node ... attempt finished" line, the
/// PrePullImage turning Completed, and its "Released" line. Missing lines stay null.
/// </summary>
internal sealed record KwarmLogStages(DateTimeOffset? LastNodeFinished, DateTimeOffset? Completed, DateTimeOffset? Released);

/// <summary>Kwarm's text log (<c>2026-12-03T17:14:24.123Z level: Category[EventId] message</c>), read back after the run.</summary>
internal sealed partial class KwarmLog(IReadOnlyList<(DateTimeOffset At, string Message)> lines)
{
    public static KwarmLog Read(string path)
    {
        var lines = new List<(DateTimeOffset, string)>();
        foreach (var line in File.Exists(path) ? File.ReadLines(path) : [])
        {
            var match = LinePattern().Match(line);
            if (match.Success && DateTimeOffset.TryParseExact(
                match.Groups["time"].Value, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            {
                lines.Add((time, match.Groups["message"].Value));
            }
        }

        return new KwarmLog(lines);
    }

    /// <summary>The stages of the hold <paramref name="holdId"/>, from lines logged in [<paramref name="from"/>, <paramref name="until"/>).</summary>
    public KwarmLogStages Stages(DateTimeOffset from, DateTimeOffset until, string holdId)
    {
        var window = lines
            .Where(line => line.At >= from.AddMilliseconds(-1) && line.At < until)
            .ToList();
        var released = window.FirstOrDefault(line => line.Message.StartsWith("Released ", StringComparison.Ordinal) && line.Message.Contains($"(hold {holdId})", StringComparison.Ordinal));
        var releasedAt = released.Message is null ? (DateTimeOffset?)null : released.At;
        var beforeRelease = window.Where(line => releasedAt is null || line.At <= releasedAt).ToList();
        var lastNode = beforeRelease.LastOrDefault(line => AttemptFinished().IsMatch(line.Message));
        var completed = beforeRelease.LastOrDefault(line => line.Message.StartsWith("PrePullImage ", StringComparison.Ordinal) && line.Message.EndsWith(" is Completed", StringComparison.Ordinal));
        return new KwarmLogStages(lastNode.Message is null ? null : lastNode.At, completed.Message is null ? null : completed.At, releasedAt);
    }

    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \w+: \S+\[\d+\] (?<message>.*)$")]
    private static partial Regex LinePattern();

    [GeneratedRegex(@"^PrePullImage \S+: node \S+ attempt \d+ finished: ")]
    private static partial Regex AttemptFinished();
}
