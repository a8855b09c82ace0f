using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Kwarm.Workloads;

namespace Kwarm.Admission;

/// <summary>
/// Turns an HTTP body into an AdmissionReview answer: validates the envelope, finds the policy in the
/// in-memory catalogue, runs <see cref="HoldDecision"/>. No I/O, so it is tested without a server.
/// </summary>
/// <remarks>
/// A review carries the whole workload twice (<c>object</c> and <c>oldObject</c>), up to 3 MiB in all, of which the
/// decision reads a few fields. So the body is read in one forward pass (<see cref="ReviewEnvelope{TObject}"/>) that checks it
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
        if (!TryRead<WorkloadSnapshot>(body, out var request, out var envelope, out var error))
        {
            return Invalid(error);
        }

        var decision = Decide(request, envelope);
        var response = new AdmissionResponse
        {
            Uid = request.Uid!, // TryRead refuses a request without one.
            Allowed = true,
            PatchType = decision.Holds ? AdmissionResponse.JsonPatchType : null,
            Patch = decision.Holds ? JsonPatchOperation.Serialize(decision.Patch) : null,
            Warnings = decision.Holds ? [Warning(decision)] : decision.Warning is { } warning ? [warning] : null,
        };
        return new ReviewOutcome { ResponseBody = Serialize(response), Decision = decision, Request = request };
    }

    /// <summary>
    /// A review posted to <c>/mutate/nodes</c> (issue #17): the same checks of the envelope as <see cref="Review"/>, then
    /// <see cref="NodeTaintDecision"/>, which reads only the Node's taints.
    /// </summary>
    /// <param name="body">The AdmissionReview as posted.</param>
    /// <param name="taintNewNodes">Kwarm's <c>--taint-new-nodes</c>; when false every review is answered allowed, unchanged.</param>
    public static ReviewOutcome ReviewNode(ReadOnlyMemory<byte> body, bool taintNewNodes)
    {
        if (!TryRead<NodeSnapshot>(body, out var request, out var envelope, out var error))
        {
            return Invalid(error);
        }

        var decision = NodeTaintDecision.Decide(request, envelope.Object, taintNewNodes);
        var response = new AdmissionResponse
        {
            Uid = request.Uid!, // TryRead refuses a request without one.
            Allowed = true,
            PatchType = decision.Taints ? AdmissionResponse.JsonPatchType : null,
            Patch = decision.Taints ? JsonPatchOperation.Serialize(decision.Patch) : null,
        };
        return new ReviewOutcome { ResponseBody = Serialize(response), NodeDecision = decision, Request = request };
    }

    /// <summary>
    /// Checks that the body is one admission.k8s.io/v1 AdmissionReview with a request and a uid, and reads its envelope
    /// and the request's objects as <typeparamref name="TObject"/>; else why not (answered HTTP 400).
    /// </summary>
    private static bool TryRead<TObject>(
        ReadOnlyMemory<byte> body,
        [NotNullWhen(true)] out AdmissionRequest? request,
        [NotNullWhen(true)] out ReviewEnvelope<TObject>? envelope,
        [NotNullWhen(false)] out string? error)
        where TObject : class, IAdmittedObject<TObject>
    {
        (request, envelope) = (null, null);
        error = Check(body, ref request, ref envelope);
        return error is null && request is not null && envelope is not null;
    }

    private static string? Check<TObject>(ReadOnlyMemory<byte> body, ref AdmissionRequest? request, ref ReviewEnvelope<TObject>? envelope)
        where TObject : class, IAdmittedObject<TObject>
    {
        if (body.IsEmpty)
        {
            return "the request body is empty; expected an admission.k8s.io/v1 AdmissionReview";
        }

        try
        {
            envelope = ReviewEnvelope<TObject>.Read(body.Span);
        }
        catch (JsonException exception)
        {
            return $"the request body is not valid JSON: {exception.Message}";
        }

        if (envelope.RootKind != JsonValueKind.Object)
        {
            return $"the request body is {AdmissionReviewReader.Describe(envelope.RootKind)} in JSON, not an admission.k8s.io/v1 AdmissionReview object";
        }

        using var document = JsonDocument.Parse(envelope.Json, ParseOptions);
        var root = document.RootElement;
        try
        {
            var apiVersion = AdmissionReviewReader.ReadString(root, "apiVersion", "$");
            var kind = AdmissionReviewReader.ReadString(root, "kind", "$");
            if (!string.Equals(apiVersion, AdmissionReview.V1ApiVersion, StringComparison.Ordinal)
                || !string.Equals(kind, AdmissionReview.ReviewKind, StringComparison.Ordinal))
            {
                return $"expected apiVersion \"{AdmissionReview.V1ApiVersion}\" and kind \"{AdmissionReview.ReviewKind}\", " +
                    $"got apiVersion \"{apiVersion}\" and kind \"{kind}\" (register the webhook with admissionReviewVersions: [v1])";
            }

            if (!root.TryGetProperty("request", out var requestElement) || requestElement.ValueKind == JsonValueKind.Null)
            {
                return "the AdmissionReview has no \"request\"";
            }

            // The envelope holds no object, old object or options: those stay in the body, read as TObject. So the request
            // keeps no element of the document, which is disposed on return.
            request = AdmissionReviewReader.ReadRequest(requestElement);
        }
        catch (InvalidAdmissionReviewException exception)
        {
            return $"the request body is not a valid AdmissionReview: {exception.Message}";
        }

        return string.IsNullOrEmpty(request.Uid) ? "the AdmissionReview request has no \"uid\"" : null;
    }

    private static byte[] Serialize(AdmissionResponse response) => JsonSerializer.SerializeToUtf8Bytes(
        new AdmissionReview { ApiVersion = AdmissionReview.V1ApiVersion, Kind = AdmissionReview.ReviewKind, Response = response },
        AdmissionJsonContext.Default.AdmissionReview);

    private HoldDecision Decide(AdmissionRequest request, ReviewEnvelope<WorkloadSnapshot> envelope)
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
