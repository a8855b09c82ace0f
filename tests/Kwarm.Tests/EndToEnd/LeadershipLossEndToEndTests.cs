using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Kwarm.Hosting;
using Kwarm.Simulator.Hosting;

namespace Kwarm.Tests.EndToEnd;

/// <summary>
/// A leader whose Lease is taken over stops its controllers and the whole process exits 1 (controller-runtime's
/// behaviour), so that Kubernetes restarts it and a fresh process campaigns: Kwarm in-process, exactly as
/// <c>Program</c> runs it, on the simulator.
/// </summary>
[Collection(OneSimulatedClusterAtATime.Name)]
public sealed class LeadershipLossEndToEndTests
{
    private const string LeaseName = "kwarm-leader";
    private const string LeaseNamespace = "kwarm-system";
    private const string Intruder = "another-kwarm_00000000";

    [Fact]
    public async Task A_leader_whose_Lease_is_taken_over_exits_1()
    {
        await using var installed = await KwarmTestCluster.StartAsync(new SimulatorOptions { Nodes = 1, TimeFactor = 0.01 });
        var kwarm = await installed.StartKwarmAsync("--leader-elect");
        string? leader = null;
        await Eventually.WaitUntilAsync(async () => (leader = (await ReadLeaseAsync(installed.Client))?.Spec?.HolderIdentity) is { Length: > 0 }, "Kwarm to take the Lease");
        Assert.False(kwarm.HasExited);

        await TakeOverAsync(installed.Client);

        // The leader notices at its next renewal and steps down once the renew deadline (10 s) has passed without one.
        var exitCode = await kwarm.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(KwarmHost.ExitStartFailed, exitCode);
        Assert.Contains($"{leader} lost leadership of lease {LeaseName}", kwarm.StandardError, StringComparison.Ordinal);
        Assert.Equal(Intruder, (await ReadLeaseAsync(installed.Client))?.Spec?.HolderIdentity);
    }

    /// <summary>Writes the Lease as another replica that has just acquired it; retried when the leader's renewal wrote in between.</summary>
    private static async Task TakeOverAsync(IKubernetes client)
    {
        await Eventually.WaitUntilAsync(
            async () =>
            {
                var lease = await ReadLeaseAsync(client) ?? throw new InvalidOperationException("the Lease is gone");
                var now = DateTime.UtcNow;
                lease.Spec.HolderIdentity = Intruder;
                lease.Spec.AcquireTime = now;
                lease.Spec.RenewTime = now;
                lease.Spec.LeaseDurationSeconds = 3600;
                lease.Spec.LeaseTransitions = (lease.Spec.LeaseTransitions ?? 0) + 1;
                try
                {
                    await client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, LeaseName, LeaseNamespace, cancellationToken: TestContext.Current.CancellationToken);
                    return true;
                }
                catch (HttpOperationException conflict) when (conflict.Response.StatusCode == HttpStatusCode.Conflict)
                {
                    return false;
                }
            },
            "the Lease to be written as another holder's");
    }

    private static async Task<V1Lease?> ReadLeaseAsync(IKubernetes client)
    {
        try
        {
            return await client.CoordinationV1.ReadNamespacedLeaseAsync(LeaseName, LeaseNamespace, cancellationToken: TestContext.Current.CancellationToken);
        }
        catch (HttpOperationException notFound) when (notFound.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }
}
