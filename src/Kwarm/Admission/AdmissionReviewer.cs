using System.Text.Json;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// Turns an HTTP body into an AdmissionReview answer: validates the envelope, finds the policy in the
/// in-memory catalogue, runs <see cref="HoldDecision"/>. No I/O, so it is tested without a server.
/// </summary>
/// <remarks>
/// A review carries the whole workload twice (<c>object</c> and <c>oldObject</c>), up to 3 MiB in all, of which the
/// decision reads a few fields. So the body is read in one forward pass (<see cref="ReviewEnvelope"/>) that checks it
/// is JSON, copies out the small envelope (everything but the two objects and <c>options</c>) to be read as a document,
/// and reads those few fields of the two objects on its way (<see cref="WorkloadSnapshot"/>). Nothing proportional
/// to the objects' size is allocated: no document index of them, no copy.
/// </remarks>
public sealed class AdmissionReviewer(IPolicyCatalog catalog, KwarmIdentity identity)
{
    /// <summary>Deep enough for any Kubernetes object (managedFields nest deeply), bounded against hostile input.</summary>
    public const int MaxDepth = 128;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxDepth };

    public ReviewOutcome Review(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            return Invalid("the request body is empty; expected an admission.k8s.io/v1 AdmissionReview");
        }

        ReviewEnvelope envelope;
        try
        {
            envelope = ReviewEnvelope.Read(body.Span);
        }
        catch (JsonException exception)
        {
            return Invalid($"the request body is not valid JSON: {exception.Message}");
        }

        if (envelope.RootKind != JsonValueKind.Object)
        {
            return Invalid($"the request body is {AdmissionReviewReader.Describe(envelope.RootKind)} in JSON, not an admission.k8s.io/v1 AdmissionReview object");
        }

        using var document = JsonDocument.Parse(envelope.Json, ParseOptions);
        var root = document.RootElement;
        AdmissionRequest request;
        try
        {
            var apiVersion = AdmissionReviewReader.ReadString(root, "apiVersion", "$");
            var kind = AdmissionReviewReader.ReadString(root, "kind", "$");
            if (!string.Equals(apiVersion, AdmissionReview.V1ApiVersion, StringComparison.Ordinal)
                || !string.Equals(kind, AdmissionReview.ReviewKind, StringComparison.Ordinal))
            {
                return Invalid($"expected apiVersion \"{AdmissionReview.V1ApiVersion}\" and kind \"{AdmissionReview.ReviewKind}\", " +
                    $"got apiVersion \"{apiVersion}\" and kind \"{kind}\" (register the webhook with admissionReviewVersions: [v1])");
            }

            if (!root.TryGetProperty("request", out var requestElement) || requestElement.ValueKind == JsonValueKind.Null)
            {
                return Invalid("the AdmissionReview has no \"request\"");
            }

            // The envelope holds no object, old object or options: those stay in the body, read below.
            request = AdmissionReviewReader.ReadRequest(requestElement);
        }
        catch (InvalidAdmissionReviewException exception)
        {
            return Invalid($"the request body is not a valid AdmissionReview: {exception.Message}");
        }

        if (string.IsNullOrEmpty(request.Uid))
        {
            return Invalid("the AdmissionReview request has no \"uid\"");
        }

        var decision = Decide(request, envelope);
        var response = new AdmissionResponse
        {
            Uid = request.Uid,
            Allowed = true,
            PatchType = decision.Holds ? AdmissionResponse.JsonPatchType : null,
            Patch = decision.Holds ? JsonPatchOperation.Serialize(decision.Patch) : null,
            Warnings = decision.Holds ? [Warning(decision)] : decision.Warning is { } warning ? [warning] : null,
        };
        var answer = new AdmissionReview { ApiVersion = AdmissionReview.V1ApiVersion, Kind = AdmissionReview.ReviewKind, Response = response };
        return new ReviewOutcome
        {
            ResponseBody = JsonSerializer.SerializeToUtf8Bytes(answer, AdmissionJsonContext.Default.AdmissionReview),
            Decision = decision,
            Request = request,
        };
    }

    private HoldDecision Decide(AdmissionRequest request, ReviewEnvelope envelope)
    {
        // Matching needs the workload's labels; skip that work for what is answered without a policy anyway.
        if (!string.IsNullOrEmpty(request.SubResource) || HoldDecision.KindOf(request) is not { } kind || envelope.Object is not { } updated)
        {
            return HoldDecision.Decide(request, updated: null, previous: null, policy: null, identity);
        }

        var policy = PolicyMatcher.Select(catalog.Policies, kind, request.Namespace, updated.Labels);
        return HoldDecision.Decide(request, updated, envelope.OldObject, policy, identity);
    }

    private static string Warning(HoldDecision decision) => decision.Reason == HoldReason.HoldRestored
        ? $"kwarm: the rollout hold {decision.HoldId} was put back (policy {decision.PolicyName}); it is released when the images are on the nodes"
        : $"kwarm: rollout held until the new images are on the nodes (hold {decision.HoldId}, policy {decision.PolicyName})";

    private static ReviewOutcome Invalid(string message) => new() { Error = message };
}
