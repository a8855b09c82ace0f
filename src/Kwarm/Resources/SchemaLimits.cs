namespace Kwarm.Resources;

/// <summary>
/// The sizes the CRD schemas allow for selector and pod-template lists (<c>maxItems</c>, <c>maxProperties</c>). They
/// exist so that Kubernetes 1.25 and later can bound the estimated cost of the CEL rules on those lists (it refuses a
/// CRD whose rules it cannot bound), and are set far above what selectors and pod templates use. Kwarm checks the
/// same sizes, so that the hold controller never creates a PrePullImage the schema would refuse.
/// </summary>
public static class SchemaLimits
{
    /// <summary>Entries of a label selector's <c>matchLabels</c>, and requirements of its <c>matchExpressions</c>.</summary>
    public const int SelectorEntries = 64;

    /// <summary>Terms of a required node affinity.</summary>
    public const int NodeSelectorTerms = 32;

    /// <summary>Requirements of one node selector term, in <c>matchExpressions</c> and in <c>matchFields</c> each.</summary>
    public const int NodeSelectorRequirements = 64;

    /// <summary>Tolerations of a PrePullImage.</summary>
    public const int Tolerations = 128;

    /// <summary>Null when <paramref name="count"/> fits <paramref name="limit"/>, else a message naming <paramref name="fieldPath"/>.</summary>
    public static string? DescribeTooMany(int count, int limit, string fieldPath, string what) =>
        count <= limit ? null : $"{fieldPath}: at most {limit} {what}, got {count}";
}
