using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// The defaults of DESIGN §2 shared by <see cref="PrePullPolicySpec"/> and <see cref="PrePullImageSpec"/>, and the
/// rules that turn an optional field into the value Kwarm acts on. The CRD schema declares the same defaults
/// (a test holds the two together), so an object read from the API server and a hand-made one behave alike.
/// </summary>
public static class PullDefaults
{
    /// <summary>Per-node attempt timeout when <c>spec.timeout</c> is absent.</summary>
    public const string Timeout = "10m";

    public const string Cpu = "100m";
    public const string Memory = "64Mi";

    private static readonly string[] DefaultedResourceNames = ["cpu", "memory"];

    /// <summary>A new copy of the default pull-pod resources: requests and limits of 100m CPU and 64Mi memory.</summary>
    public static V1ResourceRequirements CreateResources() => new()
    {
        Requests = CreateDefaultQuantities(),
        Limits = CreateDefaultQuantities(),
    };

    /// <summary>
    /// The resources a pull pod gets. A value the user set always wins; a missing CPU or memory request takes the
    /// user's limit (the API server's own rule) or else the default; a missing limit takes the default, raised to
    /// the request when the request is larger, so the result is always a valid pod spec.
    /// Resource names other than CPU and memory are passed through untouched.
    /// </summary>
    public static V1ResourceRequirements EffectiveResources(V1ResourceRequirements? configured)
    {
        var requests = Copy(configured?.Requests);
        var limits = Copy(configured?.Limits);
        var defaults = CreateDefaultQuantities();
        foreach (var name in DefaultedResourceNames)
        {
            requests.TryAdd(name, limits.TryGetValue(name, out var limit) ? new ResourceQuantity(limit.ToString()) : defaults[name]);

            if (!limits.ContainsKey(name))
            {
                var request = requests[name];
                var fallback = defaults[name];
                limits[name] = new ResourceQuantity((request.ToDecimal() > fallback.ToDecimal() ? request : fallback).ToString());
            }
        }

        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    /// <summary>
    /// The timeout a pull attempt gets: <paramref name="configured"/> when it is a usable Go duration (longer than zero,
    /// at most <see cref="GoDuration.MaxSetting"/>), else the default. The API server's schema already refuses
    /// malformed and over-long values; a zero timeout cannot become a Job's <c>activeDeadlineSeconds</c>, so it falls
    /// back too (and <see cref="DescribeInvalidTimeout"/> reports it).
    /// </summary>
    public static TimeSpan EffectiveTimeout(string? configured) => PositiveDurationOrDefault(configured, Timeout);

    /// <summary>Null when <paramref name="configured"/> is absent or usable; else a message naming <paramref name="fieldPath"/>.</summary>
    public static string? DescribeInvalidTimeout(string? configured, string fieldPath) =>
        DescribeInvalidPositiveDuration(configured, fieldPath);

    /// <summary>Whether <paramref name="configured"/> is a duration setting Kwarm acts on: longer than zero, at most 24 hours.</summary>
    internal static bool IsUsableDuration(string? configured, out TimeSpan value) =>
        GoDuration.TryParse(configured, out value) && value > TimeSpan.Zero && value <= GoDuration.MaxSetting;

    internal static TimeSpan PositiveDurationOrDefault(string? configured, string defaultValue) =>
        IsUsableDuration(configured, out var value) ? value : GoDuration.Parse(defaultValue);

    internal static string? DescribeInvalidPositiveDuration(string? configured, string fieldPath)
    {
        if (configured is null)
        {
            return null;
        }

        if (!GoDuration.TryParse(configured, out var value, out var error))
        {
            return $"{fieldPath}: {error}; the default is used";
        }

        if (value <= TimeSpan.Zero)
        {
            return $"{fieldPath}: must be longer than zero; the default is used";
        }

        return value <= GoDuration.MaxSetting
            ? null
            : $"{fieldPath}: must be at most {GoDuration.Format(GoDuration.MaxSetting)}, got {configured}; the default is used";
    }

    private static Dictionary<string, ResourceQuantity> CreateDefaultQuantities() => new(StringComparer.Ordinal)
    {
        ["cpu"] = new ResourceQuantity(Cpu),
        ["memory"] = new ResourceQuantity(Memory),
    };

    /// <summary>
    /// Quantities of <paramref name="configured"/> that Kwarm cannot use, each naming its field under
    /// <paramref name="fieldPath"/>: the schema's pattern takes any number of digits, but a quantity beyond what the
    /// client library can print or compare (more than about 28 digits, or an exponent like <c>1e999</c>) would throw
    /// wherever Kwarm writes a pull pod. Such a quantity is treated as absent, so the default applies.
    /// </summary>
    public static IEnumerable<string> DescribeUnusableResources(V1ResourceRequirements? configured, string fieldPath)
    {
        foreach (var (kind, quantities) in new[] { ("limits", configured?.Limits), ("requests", configured?.Requests) })
        {
            foreach (var (name, quantity) in quantities ?? new Dictionary<string, ResourceQuantity>())
            {
                if (quantity is not null && !IsUsable(quantity))
                {
                    yield return $"{fieldPath}.{kind}.{name}: the quantity is too large to use; the default is used";
                }
            }
        }
    }

    /// <summary>Whether the client library can print and compare <paramref name="quantity"/> (it throws for huge ones).</summary>
    private static bool IsUsable(ResourceQuantity quantity)
    {
        try
        {
            _ = quantity.ToString();
            _ = quantity.ToDecimal();
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    private static Dictionary<string, ResourceQuantity> Copy(IDictionary<string, ResourceQuantity>? quantities)
    {
        var copy = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        foreach (var (name, quantity) in quantities ?? new Dictionary<string, ResourceQuantity>())
        {
            // A null quantity can only come from a hand-made object, an unusable one from a value the schema's pattern
            // let through: either is treated as absent, so the default applies (and Validate reports the latter).
            if (quantity is not null && IsUsable(quantity))
            {
                copy[name] = new ResourceQuantity(quantity.ToString());
            }
        }

        return copy;
    }
}
