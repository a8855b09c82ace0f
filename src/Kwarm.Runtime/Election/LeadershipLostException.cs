namespace Kwarm.Runtime;

/// <summary>
/// This replica led and lost the Lease (it could not renew within the renew deadline, or another holder took it).
/// The leader-only work has already stopped when it is thrown; it ends <see cref="LeaderElection.RunAsync"/> so that
/// the host shuts down cleanly and the process exits non-zero, as controller-runtime does: a fresh process, not a
/// replica that carries whatever state the lost term left behind, campaigns next.
/// </summary>
public sealed class LeadershipLostException : Exception
{
    public LeadershipLostException()
    {
    }

    public LeadershipLostException(string message)
        : base(message)
    {
    }

    public LeadershipLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public static LeadershipLostException Of(string identity, string lease) =>
        new($"{identity} lost leadership of lease {lease}; its controllers have stopped and the process exits so that a fresh one campaigns");
}
