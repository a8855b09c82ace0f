using System.Globalization;

namespace Kwarm.Holds;

/// <summary>
/// When a hold began, as the hold controller records it on the workload in annotation
/// <c>kwarm.io/hold-started: &lt;hold id&gt;@&lt;RFC 3339 UTC&gt;</c>. The deadline counts from it. It lives on the
/// Deployment rather than in memory or on the PrePullImages because those can be deleted (by hand, by the finished
/// TTL) and re-created, and a process can restart or lose leadership: only the held object itself lasts exactly as long
/// as the hold. The hold id is part of the value so that a record left by a superseded hold is recognised as such.
/// </summary>
public sealed record HoldStart(string HoldId, DateTimeOffset At)
{
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";

    /// <summary>Whole seconds, as Kubernetes writes times: truncation can only bring a deadline forward, never later.</summary>
    public static HoldStart Of(string holdId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(holdId);
        var utc = at.ToUniversalTime();
        return new HoldStart(holdId, new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero));
    }

    public string Format() => HoldId + "@" + At.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>The time as written in the annotation; part of event names, so a repeated hold id gets events of its own.</summary>
    public string AtText => At.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Null for an absent or malformed value (a person edited it): the controller then records a new one.</summary>
    public static HoldStart? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var at = value.LastIndexOf('@');
        if (at <= 0
            || !DateTimeOffset.TryParseExact(value[(at + 1)..], TimeFormat, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return null;
        }

        return new HoldStart(value[..at], time);
    }
}
