using k8s;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Resources;

namespace Kwarm.Pulling;

/// <summary>The API writes of the pull engine (a seam for tests; <see cref="KubernetesPullApi"/> in production).</summary>
public interface IPullApi
{
    /// <exception cref="ApiConflictException">A Job of that name exists already.</exception>
    Task<V1Job> CreateJobAsync(V1Job job, CancellationToken cancellationToken);

    /// <summary>Deletes a Job and (in the background) its pod; a Job already gone is fine.</summary>
    Task DeleteJobAsync(string namespaceName, string name, CancellationToken cancellationToken);

    /// <summary>Replaces the status through the <c>/status</c> subresource, guarded by the object's resourceVersion.</summary>
    /// <exception cref="ApiConflictException">The object changed since it was read.</exception>
    Task<PrePullImage> ReplaceStatusAsync(PrePullImage image, CancellationToken cancellationToken);

    /// <summary>Deletes a PrePullImage if it still has <paramref name="uid"/>; one already gone is fine.</summary>
    Task DeletePrePullImageAsync(string namespaceName, string name, string uid, CancellationToken cancellationToken);
}
