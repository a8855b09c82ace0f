namespace Kwarm.Hosting;

/// <summary>
/// A component cannot start for a reason the operator's user must fix (no kubeconfig, no in-cluster config, an
/// unreadable file). The host prints <c>kwarm: {Message}</c> on one line and exits with code 1, without a stack trace.
/// </summary>
public sealed class KwarmStartupException : Exception
{
    public KwarmStartupException()
    {
    }

    public KwarmStartupException(string message)
        : base(message)
    {
    }

    public KwarmStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
