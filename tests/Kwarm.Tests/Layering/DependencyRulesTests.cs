using System.Reflection;
using Kwarm.Hosting;
using NetArchTest.Rules;

namespace Kwarm.Tests.Layering;

/// <summary>
/// The arrows of docs/architecture.md ("Code layout"), checked on the compiled assemblies: the controller runtime knows
/// nothing of Kwarm, and Observability sits below Hosting, not beside it in a cycle.
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

    [Fact]
    public void Observability_does_not_depend_on_Hosting()
    {
        var result = Types.InAssembly(KwarmAssembly)
            .That().ResideInNamespace("Kwarm.Observability")
            .ShouldNot().HaveDependencyOn("Kwarm.Hosting")
            .GetResult();

        Assert.True(result.IsSuccessful, Describe("Observability types that depend on Hosting (Hosting already depends on Observability)", result));
    }

    private static string Describe(string what, NetArchTest.Rules.TestResult result) =>
        $"{what}: {string.Join(", ", result.FailingTypeNames ?? [])}";
}
