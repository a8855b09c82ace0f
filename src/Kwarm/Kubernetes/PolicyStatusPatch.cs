using System.Text.Json.Serialization;
using Kwarm.Resources;

namespace Kwarm.Kubernetes;

/// <summary>The merge-patch body that replaces a PrePullPolicy's status.</summary>
public sealed record PolicyStatusPatch([property: JsonPropertyName("status")] PrePullPolicyStatus Status);
