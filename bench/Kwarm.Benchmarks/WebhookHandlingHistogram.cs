using System.Globalization;

namespace Kwarm.Benchmarks;

/// <summary>
/// Kwarm's own <c>kwarm_webhook_duration_seconds</c> histogram, read from its <c>/metrics</c>: the time Kwarm spent
/// answering, without the TLS, the sockets and the scheduling between the API server and Kwarm's handler that the API
/// server's own measurement includes. Cumulative counts per bucket bound, summed over the decision label.
/// </summary>
internal sealed record WebhookHandlingHistogram(IReadOnlyDictionary<double, long> CumulativeByBound)
{
    private const string BucketPrefix = "kwarm_webhook_duration_seconds_bucket{";

    public static WebhookHandlingHistogram Empty { get; } = new(new Dictionary<double, long>());

    /// <summary>Calls counted (the <c>+Inf</c> bucket).</summary>
    public long Count => CumulativeByBound.TryGetValue(double.PositiveInfinity, out var count) ? count : 0;

    public static async Task<WebhookHandlingHistogram> ScrapeAsync(HttpClient http, Uri metrics, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        return Parse(await http.GetStringAsync(metrics, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Reads the bucket lines of the Prometheus text format; every other line is ignored.</summary>
    public static WebhookHandlingHistogram Parse(string exposition)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        var buckets = new Dictionary<double, long>();
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(BucketPrefix, StringComparison.Ordinal))
            {
                continue;
            }

            var labelsEnd = line.IndexOf('}', StringComparison.Ordinal);
            var leStart = line.IndexOf("le=\"", StringComparison.Ordinal);
            if (labelsEnd < 0 || leStart < 0 || leStart > labelsEnd)
            {
                throw new FormatException($"a bucket line without le: {line}");
            }

            var leValue = line[(leStart + 4)..line.IndexOf('"', leStart + 4)];
            var bound = leValue == "+Inf" ? double.PositiveInfinity : double.Parse(leValue, CultureInfo.InvariantCulture);
            var count = long.Parse(line[(labelsEnd + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            buckets[bound] = buckets.GetValueOrDefault(bound) + count;
        }

        return new WebhookHandlingHistogram(buckets);
    }

    /// <summary>The calls counted since <paramref name="earlier"/>.</summary>
    public WebhookHandlingHistogram Since(WebhookHandlingHistogram earlier)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        return new WebhookHandlingHistogram(CumulativeByBound.ToDictionary(pair => pair.Key, pair => pair.Value - earlier.CumulativeByBound.GetValueOrDefault(pair.Key)));
    }

    /// <summary>Calls answered within <paramref name="seconds"/>, when that is one of the bucket bounds.</summary>
    public long Within(double seconds) => CumulativeByBound.TryGetValue(seconds, out var count) ? count : 0;

    /// <summary>The smallest bucket bound under which at least <paramref name="quantile"/> of the calls fall: an upper bound of that quantile.</summary>
    public double? QuantileBound(double quantile) =>
        Count == 0 ? null : CumulativeByBound.OrderBy(pair => pair.Key).First(pair => pair.Value >= quantile * Count).Key;
}
