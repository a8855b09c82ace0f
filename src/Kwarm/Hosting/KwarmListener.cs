namespace Kwarm.Hosting;

/// <summary>The three ports of the process (DESIGN §6).</summary>
public enum KwarmListener
{
    Webhook,
    Metrics,
    Probes,
}
