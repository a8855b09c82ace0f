using System.Text.Json;

namespace Kwarm.Admission;

/// <summary>
/// The fields of a request's <c>object</c> and <c>oldObject</c> one webhook path decides on, read in place during the
/// one pass over the body (<see cref="ReviewEnvelope{TObject}"/>): <see cref="WorkloadSnapshot"/> for the workload paths,
/// <see cref="NodeSnapshot"/> for <c>/mutate/nodes</c>. A static member, so the generic reader needs no reflection.
/// </summary>
internal interface IAdmittedObject<TSelf>
    where TSelf : class
{
    /// <summary>Reads the value the reader is on (its first token), leaving the reader on the value's last token.</summary>
    /// <exception cref="JsonException">The value is not well-formed JSON.</exception>
    static abstract TSelf Read(ref Utf8JsonReader reader);
}
