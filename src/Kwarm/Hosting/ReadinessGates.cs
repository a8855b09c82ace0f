using System.Collections.Concurrent;

namespace Kwarm.Hosting;

/// <summary>
/// What <c>/readyz</c> waits for (DESIGN §6: caches synced and certificate loaded). Each component
/// registers its gate at start-up and opens it when ready; a gate may close again (a lost watch, a
/// certificate that vanished) so readiness follows the process's real state.
/// </summary>
public sealed class ReadinessGates
{
    public const string CertificateLoaded = "certificate";

    private readonly ConcurrentDictionary<string, bool> _gates = new(StringComparer.Ordinal);

    /// <summary>Declares a gate, closed until <see cref="Open"/> is called.</summary>
    public void Register(string name) => _gates.TryAdd(name, false);

    public void Open(string name) => _gates[name] = true;

    public void Close(string name) => _gates[name] = false;

    public bool IsReady => _gates.Values.All(open => open);

    /// <summary>Names of the gates still closed, sorted, for the <c>/readyz</c> body.</summary>
    public IReadOnlyList<string> Pending =>
        _gates.Where(gate => !gate.Value).Select(gate => gate.Key).Order(StringComparer.Ordinal).ToList();
}
