namespace Kwarm.Admission;

/// <summary>Why the Node webhook (<c>/mutate/nodes</c>) answered as it did; logged, and asserted on by the tests.</summary>
public enum NodeTaintReason
{
    /// <summary>A new Node: the warming taint is added.</summary>
    Tainted,

    /// <summary>Kwarm runs without <c>--taint-new-nodes</c>: every Node passes unchanged, whatever the webhook configuration sends.</summary>
    TaintingOff,

    /// <summary>A write to a subresource (<c>nodes/status</c>): never changed.</summary>
    Subresource,

    /// <summary>Not a core/v1 Node (or no object): allowed as it is.</summary>
    NotANode,

    /// <summary>UPDATE, DELETE or CONNECT: Kwarm never taints an existing node.</summary>
    NotCreate,

    /// <summary>The Node already carries a <c>kwarm.io/warming</c> taint with effect NoSchedule (its provisioner put it on).</summary>
    AlreadyTainted,
}
