using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>
/// A status that fits the budget. <paramref name="Remembered"/> holds the full form of every entry that was shortened
/// or left out, for the engine to keep in memory and plan from (so the compact status is stable from one reconcile to
/// the next); <paramref name="Omitted"/> counts the entries not listed at all.
/// </summary>
public sealed record BudgetedStatus(PrePullImageStatus Status, IReadOnlyList<NodePullStatus> Remembered, int Omitted);
