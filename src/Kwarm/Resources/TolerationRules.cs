using k8s.Models;

namespace Kwarm.Resources;

/// <summary>
/// The API server's rules for a pod's toleration (its <c>validateTolerations</c>), checked on the tolerations of a
/// PrePullImage before they go into a pull pod: a toleration it would refuse there makes every Job create fail.
/// </summary>
public static class TolerationRules
{
    public const string Exists = "Exists";
    public const string Equal = "Equal";
    public const string NoExecute = "NoExecute";

    /// <summary>The operators a toleration may have; empty means <c>Equal</c>.</summary>
    public static IReadOnlyList<string> Operators { get; } = ["", Exists, Equal];

    /// <summary>The effects a toleration may name; empty matches every effect.</summary>
    public static IReadOnlyList<string> Effects { get; } = ["", "NoSchedule", "PreferNoSchedule", NoExecute];

    /// <summary>Null for a toleration a pod may carry, else the first problem, naming its field under <paramref name="fieldPath"/>.</summary>
    public static string? Describe(V1Toleration? toleration, string fieldPath)
    {
        if (toleration is null)
        {
            return $"{fieldPath}: a toleration is required";
        }

        var key = toleration.Key ?? "";
        var operation = toleration.OperatorProperty ?? "";
        var effect = toleration.Effect ?? "";
        var value = toleration.Value ?? "";
        if (key.Length > 0 && KubernetesNames.DescribeInvalidLabelKey(key) is { } badKey)
        {
            return $"{fieldPath}.key: {badKey}";
        }

        if (!Operators.Contains(operation, StringComparer.Ordinal))
        {
            return $"{fieldPath}.operator: \"{KubernetesNames.Shorten(operation)}\" is not Exists or Equal";
        }

        if (key.Length == 0 && operation != Exists)
        {
            return $"{fieldPath}.operator: must be Exists when the key is empty (which means every key)";
        }

        if (operation == Exists && value.Length > 0)
        {
            return $"{fieldPath}.value: must be empty when the operator is Exists";
        }

        if (operation != Exists && KubernetesNames.DescribeInvalidLabelValue(value) is { } badValue)
        {
            return $"{fieldPath}.value: {badValue}";
        }

        if (!Effects.Contains(effect, StringComparer.Ordinal))
        {
            return $"{fieldPath}.effect: \"{KubernetesNames.Shorten(effect)}\" is not NoSchedule, PreferNoSchedule or NoExecute";
        }

        return toleration.TolerationSeconds is not null && effect != NoExecute
            ? $"{fieldPath}.tolerationSeconds: only a NoExecute toleration may set it"
            : null;
    }
}
