using System.Text.RegularExpressions;
using Kwarm.Resources;

namespace Kwarm.Tests.Resources;

/// <summary>Kwarm's checks of label keys, label values and names give the answers of the CRD patterns (compiled by .NET).</summary>
public sealed class KubernetesNamesTests
{
    private static readonly string Name63 = "n" + new string('x', 61) + "n";

    private static bool Matches(string pattern, string text) =>
        new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(pattern)).IsMatch(text);

    [Theory]
    [InlineData("app", true)]
    [InlineData("kwarm.io/enabled", true)]
    [InlineData("node-role.kubernetes.io/control-plane", true)]
    [InlineData("node.kubernetes.io/instance-type", true)]
    [InlineData("A_b.C-d", true)]
    [InlineData("x", true)]
    [InlineData("", false)]
    [InlineData("bad key!", false)]
    [InlineData("-app", false)]
    [InlineData("app-", false)]
    [InlineData("/app", false)]
    [InlineData("kwarm.io/", false)]
    [InlineData("Kwarm.IO/app", false)]
    [InlineData("kwarm..io/app", false)]
    [InlineData("a/b/c", false)]
    [InlineData("app\n", false)]
    public void Label_keys(string key, bool valid)
    {
        Assert.Equal(valid, KubernetesNames.DescribeInvalidLabelKey(key) is null);
        Assert.Equal(valid, Matches(KubernetesNames.LabelKeyPattern, key));
    }

    [Fact]
    public void A_label_key_name_has_at_most_63_characters_and_its_prefix_at_most_253()
    {
        Assert.Null(KubernetesNames.DescribeInvalidLabelKey(Name63));
        Assert.Null(KubernetesNames.DescribeInvalidLabelKey("example.com/" + Name63));
        Assert.NotNull(KubernetesNames.DescribeInvalidLabelKey(Name63 + "x"));
        Assert.DoesNotMatch(new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(KubernetesNames.LabelKeyPattern)), Name63 + "x");

        // The pattern cannot count the prefix; the schema's maxLength (317) and Kwarm's check can.
        var longPrefix = string.Join('.', Enumerable.Repeat(new string('p', 50), 5)) + "/app";
        Assert.Matches(new Regex(OpenApiSchemaConverter.EndAnchorAsInGo(KubernetesNames.LabelKeyPattern)), longPrefix);
        Assert.Contains("at most 253", KubernetesNames.DescribeInvalidLabelKey(longPrefix), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("true", true)]
    [InlineData("web-1.2_x", true)]
    [InlineData("gpu", true)]
    [InlineData("1,2", false)]
    [InlineData("-web", false)]
    [InlineData("web.", false)]
    [InlineData("has space", false)]
    public void Label_values(string value, bool valid)
    {
        Assert.Equal(valid, KubernetesNames.DescribeInvalidLabelValue(value) is null);
        Assert.Equal(valid, Matches(KubernetesNames.LabelValuePattern, value));
    }

    [Theory]
    [InlineData("shop", true, true)]
    [InlineData("node-1.eu-west-1.compute.internal", false, true)]
    [InlineData("Shop", false, false)]
    [InlineData("shop_1", false, false)]
    [InlineData("-shop", false, false)]
    [InlineData("shop.", false, false)]
    public void Dns_labels_and_subdomains(string name, bool label, bool subdomain)
    {
        Assert.Equal(label, KubernetesNames.DescribeInvalidDnsLabel(name) is null);
        Assert.Equal(label, Matches(KubernetesNames.DnsLabelPattern, name));
        Assert.Equal(subdomain, KubernetesNames.DescribeInvalidDnsSubdomain(name) is null);
        Assert.Equal(subdomain, Matches(KubernetesNames.DnsSubdomainPattern, name));
    }
}
