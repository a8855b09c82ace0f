using System.Text.RegularExpressions;
using Kwarm.Pulling;

namespace Kwarm.Tests.Pulling;

public sealed partial class PullObjectNamesTests
{
    [Fact]
    public void Job_names_are_unique_short_dns_labels_for_random_long_and_odd_names()
    {
        var random = new Random(20261126);
        var names = new Dictionary<string, (string, string, string, int)>(StringComparer.Ordinal);
        for (var i = 0; i < 20_000; i++)
        {
            var tuple = (RandomName(random, 63), RandomName(random, 253), RandomName(random, 253), random.Next(1, 12));
            var name = PullObjectNames.JobName(tuple.Item1, tuple.Item2, tuple.Item3, tuple.Item4);

            Assert.True(name.Length <= 63, $"{name} is {name.Length} characters");
            Assert.Matches(Dns1123Label(), name);
            if (names.TryGetValue(name, out var other))
            {
                Assert.Equal(other, tuple);
            }

            names[name] = tuple;
        }

        Assert.True(names.Count > 19_000);
    }

    [Fact]
    public void Names_differing_only_past_the_readable_prefix_or_in_the_attempt_still_differ()
    {
        var node = new string('n', 240);
        var names = new[]
        {
            PullObjectNames.JobName("shop", "web", node + "-a", 1),
            PullObjectNames.JobName("shop", "web", node + "-b", 1),
            PullObjectNames.JobName("shop", "web", node + "-a", 2),
            PullObjectNames.JobName("bank", "web", node + "-a", 1),
            PullObjectNames.JobName("shop", "web-" + node, "a", 1),
        };

        Assert.Equal(names.Length, names.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(PullObjectNames.JobName("shop", "web", node + "-a", 1), names[0]);
    }

    [Fact]
    public void Job_names_stay_readable()
    {
        var name = PullObjectNames.JobName("shop", "web-5d8f7c-0", "ip-10-0-1-23.eu-central-1.compute.internal", 1);

        Assert.StartsWith("pull-web-5d8f7c-0-ip-10-0-1-23-eu-central-", name, StringComparison.Ordinal);
    }

    [Fact]
    public void Label_values_are_the_name_when_valid_and_a_hashed_short_form_otherwise()
    {
        Assert.Equal("node-1.example", PullObjectNames.LabelValue("node-1.example"));

        var random = new Random(7);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 5_000; i++)
        {
            var node = RandomName(random, 253);
            var value = PullObjectNames.LabelValue(node);

            Assert.True(value.Length <= 63);
            Assert.Matches(LabelValuePattern(), value);
            Assert.True(seen.Add(value) || value == PullObjectNames.LabelValue(node));
        }

        var longA = new string('a', 200) + "-x";
        var longB = new string('a', 200) + "-y";
        Assert.NotEqual(PullObjectNames.LabelValue(longA), PullObjectNames.LabelValue(longB));
    }

    /// <summary>Valid node/object names and stranger strings: dots, dashes at odd places, upper case, unicode.</summary>
    private static string RandomName(Random random, int maxLength)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-.-.ABZ_é";
        var length = random.Next(1, maxLength + 1);
        return string.Create(length, random, (span, rng) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = Alphabet[rng.Next(Alphabet.Length)];
            }
        });
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValuePattern();
}
