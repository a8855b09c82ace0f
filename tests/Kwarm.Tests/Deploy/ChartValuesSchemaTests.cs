using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Kwarm.Hosting;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// values.schema.json, which Helm checks before rendering: the chart's own values pass, and a misspelt or
/// out-of-range value is refused with a message at install time instead of crash-looping the operator.
/// </summary>
public sealed class ChartValuesSchemaTests
{
    private static readonly JsonSchema Schema = JsonSchema.Build(
        JsonSerializer.SerializeToElement(JsonNode.Parse(File.ReadAllText(Path.Combine(Manifests.ChartDirectory, "values.schema.json")))),
        new BuildOptions { Dialect = Dialect.Draft07, SchemaRegistry = new SchemaRegistry() },
        new Uri($"https://kwarm.io/tests/values-{Guid.NewGuid():N}"));

    [Fact]
    public void Chart_values_pass_the_schema()
    {
        Assert.True(IsValid(null), "values.yaml does not satisfy values.schema.json");
    }

    [Theory]
    [InlineData("""{"flags": {"maxConcurentPulls": 5}}""")]
    [InlineData("""{"flags": {"logFormat": "xml"}}""")]
    [InlineData("""{"flags": {"finishedPrePullImageTtl": "an hour"}}""")]
    [InlineData("""{"flags": {"metricsBindAddress": "8080"}}""")]
    [InlineData("""{"webhook": {"failurePolicy": "Maybe"}}""")]
    [InlineData("""{"webhook": {"timeoutSeconds": 31}}""")]
    [InlineData("""{"certManager": {"enabled": false}}""")]
    [InlineData("""{"replicas": 0}""")]
    [InlineData("""{"replica": 3}""")]
    [InlineData("""{"image": {"pullPolicy": "Sometimes"}}""")]
    public void Bad_values_are_refused(string overrides)
    {
        Assert.False(IsValid(JsonNode.Parse(overrides)!.AsObject()));
    }

    [Fact]
    public void Bring_your_own_certificate_with_a_ca_bundle_is_accepted()
    {
        Assert.True(IsValid(new JsonObject { ["certManager"] = new JsonObject { ["enabled"] = false }, ["webhook"] = new JsonObject { ["caBundle"] = "LS0tLS1CRUdJTi==" } }));
    }

    /// <summary>The schema and the operator agree on every boundary of the numeric and enumerated flags.</summary>
    [Theory]
    [InlineData("max-concurrent-pulls", "-1", "0", "1", "2", "1000", "1001")]
    [InlineData("max-pulls-per-node", "0", "1", "10", "11")]
    [InlineData("log-format", "auto", "text", "json", "xml", "JSON")]
    public void Schema_and_operator_accept_the_same_flag_values(string flagName, params string[] candidates)
    {
        var flag = KwarmFlags.Find(flagName)!;
        var key = char.ToLowerInvariant(flag.Property[0]) + flag.Property[1..];
        foreach (var raw in candidates)
        {
            JsonNode value = int.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(raw);
            var operatorAccepts = flag.TryApply(raw, new KwarmOptions());
            // The operator also takes other casings of enum names; the chart documents and accepts the lower-case ones.
            if (flagName == "log-format" && raw.Any(char.IsUpper))
            {
                operatorAccepts = false;
            }

            Assert.True(operatorAccepts == IsValid(new JsonObject { ["flags"] = new JsonObject { [key] = value } }), $"--{flagName}={raw}: operator accepts {operatorAccepts}");
        }
    }

    private static bool IsValid(JsonObject? overrides)
    {
        var values = ChartTemplateRenderer.Values(Manifests.ChartDirectory, overrides);
        return Schema.Evaluate(JsonSerializer.SerializeToElement(values)).IsValid;
    }
}
