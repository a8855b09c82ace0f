using Kwarm.Local;

namespace Kwarm.Tests.Local;

/// <summary>The run command's own options (<c>dotnet run --project src/Kwarm.Local -- ...</c>).</summary>
public sealed class LocalSettingsTests
{
    [Theory]
    [InlineData(new string[0], LocalMode.Demo, LocalSettings.DefaultDemoNodes)]
    [InlineData(new[] { "--nodes", "7" }, LocalMode.Demo, 7)]
    [InlineData(new[] { "--playground" }, LocalMode.Playground, LocalSettings.DefaultPlaygroundNodes)]
    [InlineData(new[] { "--nodes", "12", "--playground" }, LocalMode.Playground, 12)]
    [InlineData(new[] { "--help" }, LocalMode.Help, LocalSettings.DefaultDemoNodes)]
    [InlineData(new[] { "--nodes", "2", "-h" }, LocalMode.Help, LocalSettings.DefaultDemoNodes)]
    public void Options_choose_the_mode_and_the_nodes(string[] args, LocalMode mode, int nodes)
    {
        var errors = new StringWriter();

        var settings = LocalSettings.Parse(args, errors);

        Assert.Equal("", errors.ToString());
        Assert.Equal(mode, settings?.Mode);
        Assert.Equal(nodes, settings?.Nodes);
    }

    [Theory]
    [InlineData(new[] { "--bogus" }, "kwarm: unknown option \"--bogus\" without a cluster (options: --playground, --nodes N, --kwarm PATH; --help lists them, and Kwarm's flags need --kubeconfig PATH or KUBECONFIG)")]
    [InlineData(new[] { "--nodes", "0" }, "kwarm: --nodes needs a number from 1 to 500")]
    [InlineData(new[] { "--nodes" }, "kwarm: --nodes needs a number from 1 to 500")]
    [InlineData(new[] { "--kwarm" }, "kwarm: --kwarm needs the path of a native Kwarm binary")]
    public void A_bad_option_is_one_line_saying_what_is_wrong(string[] args, string line)
    {
        var errors = new StringWriter();

        Assert.Null(LocalSettings.Parse(args, errors));
        Assert.Equal(line + Environment.NewLine, errors.ToString());
    }

    [Theory]
    [InlineData(new[] { "--playground" }, true)]
    [InlineData(new[] { "--help" }, true)]
    [InlineData(new[] { "-h" }, true)]
    [InlineData(new[] { "--nodes", "3" }, false)]
    [InlineData(new[] { "--kubeconfig", "x" }, false)]
    public void Playground_and_help_never_go_to_a_configured_cluster(string[] args, bool local) =>
        Assert.Equal(local, LocalSettings.StaysLocal(args));

    [Fact]
    public void Usage_names_every_option_the_parser_takes()
    {
        foreach (var option in new[] { "--playground", "--nodes N", "--kwarm PATH", "--help, -h" })
        {
            Assert.Contains(option, LocalSettings.Usage, StringComparison.Ordinal);
        }
    }
}
