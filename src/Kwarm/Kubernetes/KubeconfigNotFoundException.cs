namespace Kwarm.Kubernetes;

/// <summary>
/// No usable connection to a Kubernetes API server could be configured. The message lists every
/// source that was tried and how to provide one; the host prints it and exits with code 1.
/// </summary>
public sealed class KubeconfigNotFoundException : Exception
{
    public KubeconfigNotFoundException()
    {
    }

    public KubeconfigNotFoundException(string message)
        : base(message)
    {
    }

    public KubeconfigNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
