using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kwarm.Benchmarks;

/// <summary>
/// A recorded <c>kubectl set image</c> AdmissionReview grown to near the API server's request limit, the way a real
/// Deployment gets there: thousands of environment variables in its main container, and the
/// <c>kubectl.kubernetes.io/last-applied-configuration</c> annotation that a client-side apply keeps, holding the
/// object once more as a string. The old and the new object are grown alike, so the review is still an image change
/// that Kwarm answers with a hold. The bytes are split around the request's <c>uid</c> (written first, always 36
/// characters) so that many requests can share one copy of the body and still carry their own uid.
/// </summary>
internal sealed record LargeAdmissionReview(byte[] BeforeUid, byte[] AfterUid, int EnvironmentVariables)
{
    private const string UidPlaceholder = "00000000-0000-0000-0000-000000000000";
    private const string LastApplied = "kubectl.kubernetes.io/last-applied-configuration";

    public long Length => BeforeUid.Length + UidPlaceholder.Length + AfterUid.Length;

    /// <summary>Grows the fixture at <paramref name="fixturePath"/> to about <paramref name="targetBytes"/> (never more).</summary>
    public static LargeAdmissionReview Build(string fixturePath, long targetBytes)
    {
        var small = Build(fixturePath, variables: 0);
        var perVariable = Build(fixturePath, variables: 1000).Length - small.Length;
        var variables = (int)((targetBytes - small.Length) * 1000 / perVariable);
        var review = Build(fixturePath, variables);
        while (review.Length > targetBytes)
        {
            variables -= Math.Max(1, variables / 1000);
            review = Build(fixturePath, variables);
        }

        return review;
    }

    public static LargeAdmissionReview Build(string fixturePath, int variables)
    {
        var fixture = JsonNode.Parse(File.ReadAllText(fixturePath))!.AsObject();
        var request = fixture["request"]!.AsObject();
        request.Remove("uid");
        foreach (var field in new[] { "object", "oldObject" })
        {
            Grow(request[field]!.AsObject(), variables);
        }

        // uid first, so that it sits at a known place in the bytes.
        var ordered = new JsonObject { ["uid"] = UidPlaceholder };
        foreach (var (key, value) in request.ToList())
        {
            request.Remove(key);
            ordered[key] = value;
        }

        fixture["request"] = ordered;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(fixture);
        var at = bytes.AsSpan().IndexOf(Encoding.ASCII.GetBytes(UidPlaceholder));
        return new LargeAdmissionReview(bytes[..at], bytes[(at + UidPlaceholder.Length)..], variables);
    }

    /// <summary>A body with its own uid, for tools that want the bytes in one piece.</summary>
    public byte[] WithUid(Guid uid) => [.. BeforeUid, .. Encoding.ASCII.GetBytes(uid.ToString("D")), .. AfterUid];

    private static void Grow(JsonObject deployment, int variables)
    {
        var container = deployment["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();
        var environment = new JsonArray();
        for (var index = 0; index < variables; index++)
        {
            environment.Add(new JsonObject
            {
                ["name"] = string.Create(CultureInfo.InvariantCulture, $"FEATURE_SETTING_{index:D6}"),
                ["value"] = string.Create(CultureInfo.InvariantCulture, $"value-{index * 7919 % 1_000_003:D7}-enabled"),
            });
        }

        container["env"] = environment;

        // What kubectl apply keeps: the applied object (here its spec, labels and name) as one JSON string.
        var metadata = deployment["metadata"]!.AsObject();
        var annotations = metadata["annotations"] as JsonObject ?? [];
        metadata["annotations"] = annotations;
        var applied = new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["metadata"] = new JsonObject { ["name"] = metadata["name"]?.DeepClone(), ["labels"] = metadata["labels"]?.DeepClone() },
            ["spec"] = deployment["spec"]!.DeepClone(),
        };
        annotations[LastApplied] = applied.ToJsonString();
    }
}
