namespace Kwarm.Resources;

/// <summary>Why a node is or is not a target of a PrePullImage (DESIGN §5, "target nodes").</summary>
public enum NodeVerdict
{
    Target,
    NotSelected,
    NotReady,
    Cordoned,
    TaintNotTolerated,
    NotLinux,
}
