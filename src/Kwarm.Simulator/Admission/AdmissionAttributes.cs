using System.Text.Json.Nodes;
using Kwarm.Simulator.Api;

namespace Kwarm.Simulator.Admission;

/// <summary>What a mutating admission step sees of one write (the fields of an AdmissionReview request).</summary>
public sealed record AdmissionAttributes(
    ResourceType Resource,
    string? SubResource,
    string Operation,
    string Namespace,
    string Name,
    JsonObject Object,
    JsonObject? OldObject,
    bool DryRun,
    JsonObject Options,
    UserInfo User)
{
    /// <summary>
    /// Receives the <c>response.warnings</c> of the webhooks called for this write; the API server returns them to the
    /// client as <c>Warning</c> headers, which kubectl prints as "Warning: ...".
    /// </summary>
    public Action<string> Warn { get; init; } = _ => { };
}
