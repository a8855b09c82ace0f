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

/// <summary>Who makes a request, as the webhook's AdmissionReview userInfo shows it.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups)
{
    public static UserInfo Admin { get; } = new("admin", ["system:masters", "system:authenticated"]);

    /// <summary>The identity of a service account's token (<c>system:serviceaccount:ns:name</c>).</summary>
    public static UserInfo ServiceAccount(string ns, string name) =>
        new($"system:serviceaccount:{ns}:{name}", ["system:serviceaccounts", $"system:serviceaccounts:{ns}", "system:authenticated"]);
}

/// <summary>The mutating admission phase of a write: returns the object to persist.</summary>
public interface IAdmission
{
    Task<JsonObject> AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken);
}

/// <summary>Admission that lets everything through unchanged.</summary>
public sealed class NoAdmission : IAdmission
{
    public Task<JsonObject> AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return Task.FromResult(attributes.Object);
    }
}
