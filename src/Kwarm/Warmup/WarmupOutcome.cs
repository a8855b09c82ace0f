namespace Kwarm.Warmup;

/// <summary>How a node's warm-up ended: the <c>result</c> label of <c>kwarm_node_warmup_duration_seconds</c>.</summary>
public enum WarmupOutcome
{
    /// <summary>Every image it needed is on it.</summary>
    Warm,

    /// <summary>Every pull ended, and at least one failed after its retries.</summary>
    Failed,

    /// <summary><c>nodeWarmup.maxDuration</c> passed since the Node's creation (fail open).</summary>
    Timeout,

    /// <summary>No policy with warm-up enabled applies to the node, or none of its workloads could run there.</summary>
    NotNeeded,
}
