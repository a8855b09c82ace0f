namespace Kwarm.Simulator.Nodes;

/// <summary>An Event a kubelet records about a pod's container.</summary>
public sealed record KubeletEvent(string Type, string Reason, string Message, string Node, string? FieldPath);
