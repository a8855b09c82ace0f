using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Admission;

/// <summary>The mutating admission phase of a write: returns the object to persist.</summary>
public interface IAdmission
{
    Task<JsonObject> AdmitAsync(AdmissionAttributes attributes, CancellationToken cancellationToken);
}
