using System.Text.RegularExpressions;
using Kwarm.Holds;

namespace Kwarm.Tests.Holds;

public sealed partial class HoldNamesTests
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [Theory]
    [InlineData("web", "registry.example/shop/web:2.0")]
    [InlineData("a-very-long-deployment-name-that-goes-on.and.on.with-dots-and-more-words-still-going-to-253", "registry.example:5000/Team/Some_Image_With_A_Long_Name@sha256:0123456789abcdef")]
    [InlineData("x", "UPPER/CASE:tag")]
    [InlineData("9", "___:1")]
    public void PrePullImage_names_are_DNS_1123_labels_of_at_most_63_characters(string deployment, string image)
    {
        var name = HoldNames.PrePullImage(deployment, "0123456789ab", image);

        Assert.InRange(name.Length, 1, 63);
        Assert.Matches(Dns1123Label(), name);
        Assert.Equal(name, HoldNames.PrePullImage(deployment, "0123456789ab", image));
    }

    [Fact]
    public void Names_differ_by_image_hold_and_Deployment_even_when_the_readable_parts_are_cut_the_same()
    {
        var prefix = new string('d', 80);
        string[] names =
        [
            HoldNames.PrePullImage(prefix + "1", "hold1", "registry/averyveryverylongimagename:1"),
            HoldNames.PrePullImage(prefix + "2", "hold1", "registry/averyveryverylongimagename:1"),
            HoldNames.PrePullImage(prefix + "1", "hold2", "registry/averyveryverylongimagename:1"),
            HoldNames.PrePullImage(prefix + "1", "hold1", "registry/averyveryverylongimagename:2"),
            HoldNames.PrePullImage(prefix + "1", "hold1", "other/averyveryverylongimagename:1"),
        ];

        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void The_deployment_label_is_the_name_when_valid_and_a_hashed_valid_value_when_too_long()
    {
        Assert.Equal("web.frontend", HoldNames.DeploymentLabelValue("web.frontend"));
        var longName = new string('a', 100) + ".b";
        var other = new string('a', 100) + ".c";

        var value = HoldNames.DeploymentLabelValue(longName);

        Assert.InRange(value.Length, 1, 63);
        Assert.Matches(LabelValue(), value);
        Assert.NotEqual(value, HoldNames.DeploymentLabelValue(other));
    }

    [Fact]
    public void Event_names_are_deterministic_per_content_and_stay_within_253_characters()
    {
        var name = new string('w', 253);
        Assert.Equal(HoldNames.Event(name, "HoldStarted", "h1"), HoldNames.Event(name, "HoldStarted", "h1"));
        Assert.NotEqual(HoldNames.Event(name, "HoldStarted", "h1"), HoldNames.Event(name, "HoldStarted", "h2"));
        Assert.InRange(HoldNames.Event(name, "HoldStarted", "h1").Length, 1, 253);
    }
}
