using System.Security.Cryptography;

namespace Kwarm.Runtime;

public sealed record LeaderElectionOptions
{
    /// <summary>Name of the <c>coordination.k8s.io/v1</c> Lease, in the application's own namespace.</summary>
    public string LeaseName { get; init; } = "kwarm-leader";

    /// <summary>How long a lease holds without renewal; also the longest a failover waits after a leader dies.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A leader that could not renew for this long steps down (before anyone else may take over).</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// This replica's identity in the Lease: the pod name (<c>POD_NAME</c>, from the downward API) or the host
    /// name, plus a random suffix so that a restarted process never mistakes its predecessor's lease for its own.
    /// </summary>
    public static string NewIdentity()
    {
        var name = Environment.GetEnvironmentVariable("POD_NAME");
        if (string.IsNullOrWhiteSpace(name))
        {
            name = Environment.MachineName;
        }

        return $"{name}_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";
    }
}
