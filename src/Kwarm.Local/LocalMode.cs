namespace Kwarm.Local;

/// <summary>What the run command does without a cluster.</summary>
public enum LocalMode
{
    /// <summary>The scripted hold: change the image, follow hold, pre-pull, release and rollout, exit 0.</summary>
    Demo,

    /// <summary>The same cluster, Kwarm and samples, left running for kubectl until Ctrl+C or SIGTERM.</summary>
    Playground,

    /// <summary>Print the usage and exit 0.</summary>
    Help,
}
