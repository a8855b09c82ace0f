using k8s.Autorest;

namespace Kwarm.Runtime;

/// <summary>
/// The API server answered <c>409 Conflict</c>: the object changed since it was read (reason <c>Conflict</c>)
/// or already exists (reason <c>AlreadyExists</c>). Never retried as it is: the reconcile must re-read the
/// object and decide again, which throwing from the reconcile does (the work queue retries the key with backoff).
/// </summary>
public sealed class ApiConflictException : Exception
{
    public ApiConflictException()
    {
    }

    public ApiConflictException(string message)
        : base(message)
    {
    }

    public ApiConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ApiConflictException(string? objectName, string? reason, string message, Exception? innerException)
        : base(message, innerException)
    {
        ObjectName = objectName;
        Reason = reason;
    }

    /// <summary>The object's name, from the Status details, when the server gave it.</summary>
    public string? ObjectName { get; }

    /// <summary><c>Conflict</c> (stale resourceVersion) or <c>AlreadyExists</c>.</summary>
    public string? Reason { get; }

    internal static ApiConflictException From(HttpOperationException exception)
    {
        var status = ApiErrors.StatusOf(exception);
        return new ApiConflictException(
            status?.Details?.Name,
            status?.Reason,
            status?.Message ?? exception.Message,
            exception);
    }
}
