namespace Kwarm.Simulator.Api;

/// <summary>One requirement of a label selector, in the API's set-based vocabulary.</summary>
public sealed record LabelRequirement(string Key, string Operator, IReadOnlyList<string> Values)
{
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var present = labels.TryGetValue(Key, out var value);
        return Operator switch
        {
            "=" or "==" or "In" => present && Values.Contains(value!, StringComparer.Ordinal),
            "!=" => !present || !Values.Contains(value!, StringComparer.Ordinal),
            "NotIn" => !present || !Values.Contains(value!, StringComparer.Ordinal),
            "Exists" => present,
            "DoesNotExist" => !present,
            _ => false,
        };
    }
}
