using Kwarm.Workloads;

namespace Kwarm.Holds;

/// <summary>The release of one hold: the one JSON Patch, and what it restored by default for want of the user's recorded value.</summary>
/// <param name="Patch">The patch (<see cref="HoldReleasePatch"/>).</param>
/// <param name="RestoredDefault">
/// Null when the user's value was restored (or there was none to restore); else a sentence for the Warning event saying
/// which record was missing or unparsable and which API default the release restored instead.
/// </param>
public sealed record ReleasePlan(IReadOnlyList<JsonPatchOperation> Patch, string? RestoredDefault);
