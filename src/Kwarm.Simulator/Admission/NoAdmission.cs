using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Admission;

/// <summary>Admission that lets everything through unchanged.</summary>
public sealed class NoAdmission : IAdmission
{
    public Task<JsonObject> AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attributes);
        return Task.FromResult(attributes.Object);
    }
}
