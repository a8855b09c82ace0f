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
    string UserName);

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
