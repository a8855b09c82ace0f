namespace Kwarm.Simulator.Nodes;

/// <summary>A pod bound to a node was added or changed (<see cref="Gone"/>: deleted), with what the kubelet sorts on.</summary>
/// <param name="Deleting">It carries a deletionTimestamp.</param>
/// <param name="Terminal">Its phase is Succeeded or Failed.</param>
public sealed record PodChange(string Namespace, string Name, string Uid, bool Gone, bool Deleting, bool Terminal)
{
    public string Key => $"{Namespace}/{Name}";
}
