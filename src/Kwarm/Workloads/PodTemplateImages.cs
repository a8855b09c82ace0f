using k8s.Models;
using Kwarm.Resources;

namespace Kwarm.Workloads;

/// <summary>
/// The image set of a pod template: the images of its init containers and containers as one identity each
/// (<c>nginx:1.27.1</c> and <c>docker.io/library/nginx:1.27.1</c> are one image, written in the normalised form
/// <see cref="ImageIdentity.Canonical"/>), distinct and sorted ordinally; a reference that does not parse stays as
/// written. The webhook's hold id (<see cref="HoldId"/>) and the hold controller's PrePullImages are computed over
/// this same list, so they always agree.
/// </summary>
/// <param name="Images">The set, sorted ordinally.</param>
/// <param name="Problems">Why each unparsable reference does not parse (init containers first).</param>
public sealed record PodTemplateImages(IReadOnlyList<string> Images, IReadOnlyList<string> Problems)
{
    /// <summary>From the references as written (empty ones are not images and are left out).</summary>
    public static PodTemplateImages Of(IEnumerable<string?> initContainerImages, IEnumerable<string?> containerImages)
    {
        ArgumentNullException.ThrowIfNull(initContainerImages);
        ArgumentNullException.ThrowIfNull(containerImages);
        var images = new SortedSet<string>(StringComparer.Ordinal);
        List<string>? problems = null;
        foreach (var reference in initContainerImages.Concat(containerImages))
        {
            if (string.IsNullOrEmpty(reference))
            {
                continue;
            }

            if (ImageIdentity.TryParse(reference, out var identity, out var problem))
            {
                images.Add(identity.Canonical);
            }
            else
            {
                images.Add(reference);
                (problems ??= []).Add(problem);
            }
        }

        return new PodTemplateImages([.. images], problems ?? []);
    }

    public static PodTemplateImages Of(V1PodSpec? spec) =>
        Of((spec?.InitContainers ?? []).Select(container => container.Image), (spec?.Containers ?? []).Select(container => container.Image));
}
