using System.Text.Json.Nodes;

namespace Kwarm.Tests.Hosting;

/// <summary>
/// The runtime settings Kwarm ships with (its runtimeconfig.json) that keep it within the 150 MiB of DESIGN §9:
/// docs/benchmarks.md ("Scale") measured what each is worth at 1,000 nodes and 5,000 Deployments.
/// </summary>
public sealed class RuntimeSettingsTests
{
    private static JsonObject Settings()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Kwarm.runtimeconfig.json");
        return JsonNode.Parse(File.ReadAllText(path))!["runtimeOptions"]!["configProperties"]!.AsObject();
    }

    [Fact]
    public void Kwarm_runs_one_workstation_gc_heap_not_the_web_sdks_server_gc()
    {
        Assert.False(Settings()["System.GC.Server"]!.GetValue<bool>());
    }

    [Fact]
    public void The_gen0_budget_is_capped_so_a_large_reported_cache_does_not_size_it_at_128_MiB()
    {
        var budget = Settings()["System.GC.Gen0MaxBudget"]!.GetValue<long>();
        Assert.InRange(budget, 1L << 20, 8L << 20);
    }

    [Fact]
    public void No_instrumented_jit_tier_and_the_gc_compacts_to_conserve_memory()
    {
        var settings = Settings();
        Assert.False(settings["System.Runtime.TieredPGO"]!.GetValue<bool>());
        Assert.Equal(9, settings["System.GC.ConserveMemory"]!.GetValue<int>());
    }
}
