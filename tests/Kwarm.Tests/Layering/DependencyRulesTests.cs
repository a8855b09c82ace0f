using System.Reflection;
using Kwarm.Hosting;
using NetArchTest.Rules;

namespace Kwarm.Tests.Layering;

/// <summary>
/// The arrows of docs/architecture.md ("Code layout"), checked on the compiled assemblies: the controller runtime knows
/// nothing of Kwarm; inside the operator each folder (namespace) may use only the folders listed for it in
/// <see cref="Arrows"/>, so the features (Admission, Holds, Pulling) never use one another and nothing points back up.
/// </summary>
public sealed class DependencyRulesTests
{
    private static readonly Assembly RuntimeAssembly = typeof(WorkQueue<>).Assembly;
    private static readonly Assembly KwarmAssembly = typeof(KwarmOptions).Assembly;

    [Fact]
    public void Every_type_of_the_runtime_lives_in_its_own_namespace()
    {
        // Compiler-generated helpers have no namespace; embedded attributes live under System or Microsoft.
        var strays = RuntimeAssembly.GetTypes()
            .Where(type => type.Namespace is { } name && name != "Kwarm.Runtime" &&
                           !name.StartsWith("System", StringComparison.Ordinal) && !name.StartsWith("Microsoft", StringComparison.Ordinal))
            .Select(type => type.FullName)
            .ToList();

        Assert.Empty(strays);
    }

    [Fact]
    public void The_runtime_depends_on_no_Kwarm_namespace_but_its_own()
    {
        // Every Kwarm.* namespace there is, in the operator and in the runtime itself, except Kwarm.Runtime.
        // NetArchTest matches by prefix, so the root namespace Kwarm (which would match Kwarm.Runtime too) is listed type by type.
        var kwarmTypes = KwarmAssembly.GetTypes().Concat(RuntimeAssembly.GetTypes()).Where(type => type.Namespace is not null).ToList();
        var forbidden = kwarmTypes
            .Select(type => type.Namespace!)
            .Where(name => name.StartsWith("Kwarm.", StringComparison.Ordinal) && name != "Kwarm.Runtime")
            .Concat(kwarmTypes.Where(type => type.Namespace == "Kwarm").Select(type => type.FullName!))
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        Assert.Contains("Kwarm.Hosting", forbidden);

        var result = Types.InAssembly(RuntimeAssembly).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, Describe("runtime types that depend on Kwarm's domain", result));
    }

    /// <summary>
    /// Which of the operator's folders each folder may use (besides itself and Kwarm.Runtime). The root namespace
    /// (<c>KwarmApplication</c>, <c>Program</c>) composes them all and no folder may use it.
    /// </summary>
    public static TheoryData<string, string[]> Arrows => new()
    {
        { "Kwarm.Observability", ["Kwarm.Resources"] },
        { "Kwarm.Resources", [] },
        { "Kwarm.Workloads", ["Kwarm.Resources"] },
        { "Kwarm.Hosting", ["Kwarm.Observability", "Kwarm.Resources"] },
        { "Kwarm.Kubernetes", ["Kwarm.Hosting", "Kwarm.Observability", "Kwarm.Resources"] },
        { "Kwarm.Admission", Features },
        { "Kwarm.Holds", Features },
        { "Kwarm.Pulling", Features },
        { "Kwarm.Warmup", Features },
    };

    /// <summary>What a feature folder may use: everything below it, never another feature.</summary>
    private static readonly string[] Features = ["Kwarm.Workloads", "Kwarm.Kubernetes", "Kwarm.Hosting", "Kwarm.Observability", "Kwarm.Resources"];

    [Theory]
    [MemberData(nameof(Arrows))]
    public void Each_folder_uses_only_the_folders_below_it(string folder, string[] mayUse)
    {
        var forbidden = OperatorNamespaces()
            .Where(name => name != folder && !mayUse.Contains(name, StringComparer.Ordinal))
            .Concat(KwarmAssembly.GetTypes().Where(type => type.Namespace == "Kwarm").Select(type => type.FullName!))
            .ToArray();
        Assert.NotEmpty(forbidden);

        var result = Types.InAssembly(KwarmAssembly).That().ResideInNamespace(folder).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, Describe($"{folder} may use only {(mayUse.Length == 0 ? "no other folder" : string.Join(", ", mayUse))}; these types use another", result));
    }

    [Fact]
    public void Every_folder_of_the_operator_has_its_arrows_declared()
    {
        var declared = Arrows.Select(row => row.Data.Item1).Order(StringComparer.Ordinal);

        Assert.Equal(OperatorNamespaces().Order(StringComparer.Ordinal), declared);
    }

    [Fact]
    public void Observability_does_not_depend_on_Hosting()
    {
        var result = Types.InAssembly(KwarmAssembly)
            .That().ResideInNamespace("Kwarm.Observability")
            .ShouldNot().HaveDependencyOn("Kwarm.Hosting")
            .GetResult();

        Assert.True(result.IsSuccessful, Describe("Observability types that depend on Hosting (Hosting already depends on Observability)", result));
    }

    /// <summary>The operator's namespaces below the root, one per folder of src/Kwarm.</summary>
    private static List<string> OperatorNamespaces() =>
        [.. KwarmAssembly.GetTypes()
            .Select(type => type.Namespace)
            .OfType<string>()
            .Where(name => name.StartsWith("Kwarm.", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)];

    private static string Describe(string what, NetArchTest.Rules.TestResult result) =>
        $"{what}: {string.Join(", ", result.FailingTypeNames ?? [])}";
}
