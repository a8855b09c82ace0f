using System.Text;
using System.Text.Json;
using Kwarm.Admission;

namespace Kwarm.Tests.Admission;

/// <summary>
/// The decision's fields read in one forward pass from the raw object, with the leniency and the duplicate-field rule
/// of a parsed document (the last one counts), and the envelope pass that leaves the objects in the body.
/// </summary>
public sealed class WorkloadSnapshotTests
{
    private static WorkloadSnapshot Read(string json) => WorkloadSnapshot.Read(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Reads_labels_kwarm_annotations_paused_replicas_and_the_images_of_both_container_lists()
    {
        var snapshot = Read("""
            {"metadata":{"name":"web","labels":{"app":"web","tier":7},"annotations":{"kwarm.io/hold":"abc","kwarm.io/policy":"p","other":"x","kwarm.io/skip":"true"}},
             "spec":{"replicas":3,"paused":true,"template":{"spec":{"initContainers":[{"image":"init:1"}],"containers":[{"name":"a","image":"b:2","env":[{"name":"image","value":"not-this"}]},{"image":""},{"name":"no-image"},"odd"]}}}}
            """);

        Assert.Equal(new Dictionary<string, string> { ["app"] = "web" }, snapshot.Labels);
        Assert.Equal("abc", snapshot.HoldId);
        Assert.Equal("p", snapshot.HoldPolicy);
        Assert.True(snapshot.Skipped);
        Assert.DoesNotContain("other", snapshot.KwarmAnnotations.Keys);
        Assert.True(snapshot.HasAnnotationsMap);
        Assert.True(snapshot.Paused);
        Assert.Equal(3, snapshot.Replicas);
        Assert.Equal(["docker.io/library/b:2", "docker.io/library/init:1"], snapshot.Images);
    }

    [Fact]
    public void A_field_given_twice_counts_by_its_last_value_as_in_a_parsed_document()
    {
        const string json = """
            {"spec":{"paused":true,"replicas":2,"template":{"spec":{"containers":[{"image":"first:1"}]}}},
             "metadata":{"annotations":{"kwarm.io/hold":"old"},"annotations":{"kwarm.io/hold":7}},
             "spec":{"replicas":1.5,"template":{"spec":{"containers":[{"image":"a:1","image":"second:1"}]}}}}
            """;

        var snapshot = Read(json);

        Assert.False(snapshot.Paused);
        Assert.Null(snapshot.Replicas);
        Assert.Null(snapshot.HoldId);
        Assert.Equal(["docker.io/library/second:1"], snapshot.Images);
        using var document = JsonDocument.Parse(json);
        Assert.Equivalent(WorkloadSnapshot.Read(document.RootElement), snapshot);
    }

    [Fact]
    public void Fields_of_an_unexpected_type_count_as_absent()
    {
        var snapshot = Read("""{"metadata":{"labels":[1],"annotations":"x"},"spec":{"paused":"true","replicas":"3","template":{"spec":{"containers":{"image":"x:1"}}}}}""");

        Assert.Empty(snapshot.Labels);
        Assert.False(snapshot.HasAnnotationsMap);
        Assert.False(snapshot.Paused);
        Assert.Null(snapshot.Replicas);
        Assert.Empty(snapshot.Images);
        Assert.Empty(Read("[1,2]").Images);
    }

    [Fact]
    public void Escaped_field_names_are_read_by_their_value()
    {
        var snapshot = Read("""{"\u006detadata":{"annotations":{"kwarm.io\/hold":"h1"}},"spec":{"template":{"spec":{"containers":[{"im\u0061ge":"x:1"}]}}}}""");

        Assert.Equal("h1", snapshot.HoldId);
        Assert.Equal(["docker.io/library/x:1"], snapshot.Images);
    }

    [Fact]
    public void The_envelope_keeps_everything_but_the_objects_and_options_and_reads_the_objects_on_its_way()
    {
        var body = AdmissionFixtures.Bytes(AdmissionFixtures.SetImage);

        var envelope = ReviewEnvelope<WorkloadSnapshot>.Read(body);

        Assert.Equal(JsonValueKind.Object, envelope.RootKind);
        Assert.True(envelope.Json.Length < 2048, $"envelope of {envelope.Json.Length} bytes");
        using var document = JsonDocument.Parse(envelope.Json);
        var request = document.RootElement.GetProperty("request");
        Assert.Equal("b26a50db-e126-4375-8ab5-9b28d6fcab1b", request.GetProperty("uid").GetString());
        Assert.Equal("UPDATE", request.GetProperty("operation").GetString());
        Assert.False(request.TryGetProperty("object", out _));
        Assert.False(request.TryGetProperty("oldObject", out _));
        Assert.False(request.TryGetProperty("options", out _));

        using var whole = JsonDocument.Parse(body);
        var original = whole.RootElement.GetProperty("request");
        Assert.Equivalent(WorkloadSnapshot.Read(original.GetProperty("object")), envelope.Object);
        Assert.Equivalent(WorkloadSnapshot.Read(original.GetProperty("oldObject")), envelope.OldObject);
        Assert.Contains("registry.local/shop/api:1.1", envelope.Object!.Images);
        Assert.Contains("registry.local/shop/api:1.0", envelope.OldObject!.Images);
    }

    [Theory]
    [InlineData("""{"request":{"uid":"1","object":{"a":1}},"request":{"uid":"2","object":null}}""", null)]
    [InlineData("""{"request":{"uid":"1","object":{"a":1}},"request":"x"}""", null)]
    [InlineData("""{"request":{"uid":"1","object":null,"object":{"metadata":{"labels":{"v":"1"}}}}}""", "1")]
    [InlineData("""{"request":{"uid":"1","object":{"metadata":{"labels":{"v":"1"}}},"object":{"metadata":{"labels":{"v":"2"}}}}}""", "2")]
    public void The_last_request_and_object_count(string body, string? label)
    {
        var updated = ReviewEnvelope<WorkloadSnapshot>.Read(Encoding.UTF8.GetBytes(body)).Object;

        Assert.Equal(label, updated?.Labels["v"]);
    }

    [Theory]
    [InlineData("""{"a":1} x""")]
    [InlineData("""{"request":{"object":{"a":}}}""")]
    [InlineData("   ")]
    public void A_body_that_is_not_one_json_value_is_refused_as_the_document_parser_would(string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);

        Assert.ThrowsAny<JsonException>(() => ReviewEnvelope<WorkloadSnapshot>.Read(bytes));
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(bytes).Dispose());
    }
}
