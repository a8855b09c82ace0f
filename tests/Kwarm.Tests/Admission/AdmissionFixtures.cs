using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using Kwarm.Admission;
using Kwarm.Resources;
using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Admission;

/// <summary>
/// The AdmissionReview requests recorded from a real kube-apiserver (<c>tests/fixtures/admission</c>), loaded as
/// editable JSON so that each row of the DESIGN §4 table is built from a real request rather than written by hand.
/// </summary>
internal static class AdmissionFixtures
{
    public const string SetImage = "update-deployment-set-image.json";
    public const string SetImageDryRun = "update-deployment-set-image-dry-run.json";
    public const string ServerSideApplyNewImage = "update-deployment-server-side-apply-new-image.json";
    public const string ScaleSubresource = "update-deployment-scale-subresource.json";
    public const string RolloutRestart = "update-deployment-rollout-restart.json";
    public const string LabelOnly = "update-deployment-label-only.json";
    public const string UnpausePatch = "update-deployment-unpause-patch.json";
    public const string CreateClientSideApply = "create-deployment-client-side-apply.json";
    public const string CreateServerSideApply = "create-deployment-server-side-apply.json";

    public static readonly KwarmIdentity Kwarm = KwarmIdentity.ForServiceAccount("kwarm-system", "kwarm");

    private static readonly Lazy<string> FixtureDirectory = new(FindFixtures);

    public static string PathOf(string name) => Path.Combine(FixtureDirectory.Value, name);

    public static byte[] Bytes(string name) => File.ReadAllBytes(PathOf(name));

    /// <summary>The whole AdmissionReview as an editable JSON tree.</summary>
    public static JsonObject Review(string name) => JsonNode.Parse(File.ReadAllText(PathOf(name)))!.AsObject();

    public static JsonObject Request(this JsonObject review) => review["request"]!.AsObject();

    public static JsonObject NewObject(this JsonObject review) => review.Request()["object"]!.AsObject();

    public static JsonObject OldObject(this JsonObject review) => review.Request()["oldObject"]!.AsObject();

    public static AdmissionRequest ToRequest(this JsonObject review) =>
        JsonSerializer.Deserialize(review.ToJsonString(), AdmissionJsonContext.Default.AdmissionReview)!.Request!;

    public static byte[] ToBytes(this JsonObject review) => JsonSerializer.SerializeToUtf8Bytes(review);

    public static JsonObject Annotations(this JsonObject deployment)
    {
        var metadata = deployment["metadata"]!.AsObject();
        if (metadata["annotations"] is not JsonObject annotations)
        {
            annotations = [];
            metadata["annotations"] = annotations;
        }

        return annotations;
    }

    public static JsonObject Spec(this JsonObject deployment) => deployment["spec"]!.AsObject();

    public static JsonObject PodSpec(this JsonObject deployment) => deployment.Spec()["template"]!["spec"]!.AsObject();

    /// <summary>What Kwarm's webhook leaves on a Deployment it holds.</summary>
    public static void MarkHeld(this JsonObject deployment, string holdId, string policy = "default")
    {
        deployment.Spec()["paused"] = true;
        deployment.Annotations()[KwarmApi.HoldAnnotation] = holdId;
        deployment.Annotations()[KwarmApi.PolicyAnnotation] = policy;
    }

    /// <summary>
    /// The policy of the tests: it selects <c>kwarm.io/enabled: "true"</c>, the opt-in label every recorded
    /// Deployment carries (checked by <c>Every_recorded_deployment_carries_the_opt_in_label</c>).
    /// </summary>
    public static PrePullPolicy Policy(
        string name = "default",
        bool? holdEnabled = null,
        bool? onCreate = null,
        DateTime? created = null,
        IList<string>? namespaces = null,
        IDictionary<string, string>? matchLabels = null,
        IList<V1LabelSelectorRequirement>? matchExpressions = null) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, CreationTimestamp = created ?? new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc) },
            Spec = new PrePullPolicySpec
            {
                Selector = new DeploymentSelector
                {
                    MatchLabels = matchLabels ?? new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" },
                    MatchExpressions = matchExpressions,
                    Namespaces = namespaces,
                },
                Hold = holdEnabled is null && onCreate is null ? null : new HoldSpec { Enabled = holdEnabled, OnCreate = onCreate },
            },
        };

    public static IReadOnlyList<string> All =>
    [
        SetImage, SetImageDryRun, ServerSideApplyNewImage, ScaleSubresource, RolloutRestart, LabelOnly, UnpausePatch,
        CreateClientSideApply, CreateServerSideApply,
    ];

    private static string FindFixtures()
    {
        var fixtures = Path.Combine(RepositoryFiles.RecordedFixtures, "admission");
        return Directory.Exists(fixtures)
            ? fixtures
            : throw new DirectoryNotFoundException($"The recorded fixtures are expected at {fixtures} (the repository's parent holds shared/).");
    }
}
