using System.Text.Json.Nodes;

namespace Kwarm.Simulator.Tests;

public abstract partial class WorkloadControllerScenarios
{
    [Fact]
    public async Task Stored_defaults_generation_and_refusals_of_both_kinds()
    {
        await Apply("defaults.yaml", string.Join("\n---\n",
            StatefulSetYaml("plain", 1, ""),
            StatefulSetYaml("typed", 1, "updateStrategy: {type: RollingUpdate}"),
            DaemonSetYaml("agent", "", OwnNodes),
            DaemonSetYaml("manual", "updateStrategy: {type: OnDelete, rollingUpdate: {maxUnavailable: 2}}", OwnNodes)));

        var plain = await Get("statefulset", "plain");
        Assert.Equal("""{"rollingUpdate":{"partition":0},"type":"RollingUpdate"}""", plain["spec"]!["updateStrategy"]!.ToJsonString());
        Assert.Equal("OrderedReady", Text(plain, "spec", "podManagementPolicy"));
        Assert.Equal(10, Number(plain, "spec", "revisionHistoryLimit"));
        Assert.Null(plain["spec"]!["persistentVolumeClaimRetentionPolicy"]);
        // rollingUpdate is filled in only when the type was empty.
        Assert.Equal("""{"type":"RollingUpdate"}""", (await Get("statefulset", "typed"))["spec"]!["updateStrategy"]!.ToJsonString());

        var agent = await Get("daemonset", "agent");
        Assert.Equal("""{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}""", agent["spec"]!["updateStrategy"]!.ToJsonString());
        Assert.Equal(10, Number(agent, "spec", "revisionHistoryLimit"));
        Assert.Equal("1", Text(agent, "metadata", "annotations", "deprecated.daemonset.template.generation"));
        // A rollingUpdate block beside OnDelete is kept, its missing field read back as 0.
        Assert.Equal("""{"rollingUpdate":{"maxSurge":0,"maxUnavailable":2},"type":"OnDelete"}""", (await Get("daemonset", "manual"))["spec"]!["updateStrategy"]!.ToJsonString());

        // Unlike a Deployment's, an annotation leaves their generation; a template change moves the DaemonSet's template generation.
        await Ok("annotate", "statefulset", "plain", "-n", Apps, "owner=team-a");
        await Ok("annotate", "daemonset", "agent", "-n", Apps, "owner=team-a");
        Assert.Equal(1, Number(await Get("statefulset", "plain"), "metadata", "generation"));
        Assert.Equal(1, Number(await Get("daemonset", "agent"), "metadata", "generation"));
        await Ok("set", "image", "daemonset/agent", "-n", Apps, "main=registry.local/infra/agent:2");
        agent = await Get("daemonset", "agent");
        Assert.Equal(2, Number(agent, "metadata", "generation"));
        Assert.Equal("2", Text(agent, "metadata", "annotations", "deprecated.daemonset.template.generation"));

        var path = Path.Combine(_folder, "bad.yaml");
        await File.WriteAllTextAsync(path, StatefulSetYaml("bad", 1, "updateStrategy: {type: OnDelete, rollingUpdate: {partition: 1}}"), TestContext.Current.CancellationToken);
        var refused = await Run("apply", "-f", path);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("spec.updateStrategy.rollingUpdate: Invalid value: apps.RollingUpdateStatefulSetStrategy{Partition:1}: only allowed for updateStrategy 'RollingUpdate'", refused.Error);
        await File.WriteAllTextAsync(path, DaemonSetYaml("bad", "updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0}}", OwnNodes), TestContext.Current.CancellationToken);
        refused = await Run("apply", "-f", path);
        Assert.Contains("spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0", refused.Error);
        var immutable = await Run("patch", "statefulset", "plain", "-n", Apps, "--type", "merge", "-p", """{"spec":{"serviceName":"other"}}""");
        Assert.Contains("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy'", immutable.Error);

        AssertMatches(@"(?m)^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES$", await Ok("get", "statefulsets", "-n", Apps, "-o", "wide"));
        AssertMatches(@"(?m)^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$", await Ok("get", "daemonsets", "-n", Apps, "-o", "wide"));
        AssertMatches(@"(?m)^plain-\w+\s+statefulset\.apps/plain\s+1\s+", await Ok("get", "controllerrevisions", "-n", Apps));
        Assert.Empty(BackgroundErrors);
    }

    [Fact]
    public async Task StatefulSet_partition_updates_only_ordinals_at_or_above_it_and_a_scale_up_takes_the_current_revision()
    {
        await Apply("db.yaml", StatefulSetYaml("db", 3, ""));
        Assert.Contains("partitioned roll out complete: 3 new pods have been updated...", await Ok("rollout", "status", "statefulset/db", "-n", Apps, "--timeout=60s"));
        var first = Text(await Get("statefulset", "db"), "status", "currentRevision");

        await Ok("patch", "statefulset", "db", "-n", Apps, "--type", "merge", "-p", """{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}""");
        await Ok("set", "image", "statefulset/db", "-n", Apps, "main=registry.local/infra/agent:2");
        Assert.Contains("partitioned roll out complete: 1 new pods have been updated...", await Ok("rollout", "status", "statefulset/db", "-n", Apps, "--timeout=60s"));
        var db = await Get("statefulset", "db");
        var second = Text(db, "status", "updateRevision");
        Assert.NotEqual(first, second);
        Assert.Equal(first, Text(db, "status", "currentRevision"));
        Assert.Equal(2, Number(db, "status", "currentReplicas"));
        Assert.Equal(1, Number(db, "status", "updatedReplicas"));
        var revisions = (await Pods("db")).ToDictionary(p => Text(p, "metadata", "name"), p => Label(p, "controller-revision-hash"));
        Assert.Equal(first, revisions["db-0"]);
        Assert.Equal(first, revisions["db-1"]);
        Assert.Equal(second, revisions["db-2"]);

        // The hold Kwarm places: no ordinal is updated, and one added by a scale-up starts on the current revision.
        await Ok("patch", "statefulset", "db", "-n", Apps, "--type", "merge", "-p", """{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2147483647}}}}""");
        await Ok("set", "image", "statefulset/db", "-n", Apps, "main=registry.local/infra/agent:3");
        await Ok("scale", "statefulset", "db", "-n", Apps, "--replicas=4");
        Assert.Contains("partitioned roll out complete: 0 new pods have been updated...", await Ok("rollout", "status", "statefulset/db", "-n", Apps, "--timeout=60s"));
        revisions = (await Pods("db")).ToDictionary(p => Text(p, "metadata", "name"), p => Label(p, "controller-revision-hash"));
        Assert.Equal(first, revisions["db-3"]);
        Assert.Equal(second, revisions["db-2"]);
        db = await Get("statefulset", "db");
        Assert.Equal(first, Text(db, "status", "currentRevision"));
        Assert.Equal(3, Number(db, "status", "currentReplicas"));
        Assert.Null(db["status"]!["updatedReplicas"]);

        // Releasing the partition rolls every pod from the highest ordinal down.
        await Ok("patch", "statefulset", "db", "-n", Apps, "--type", "json", "-p", """[{"op":"remove","path":"/spec/updateStrategy/rollingUpdate"}]""");
        await Eventually(async () =>
        {
            var set = await Get("statefulset", "db");
            return Number(set, "status", "updatedReplicas") == 4 && Number(set, "status", "readyReplicas") == 4
                && Text(set, "status", "currentRevision") == Text(set, "status", "updateRevision");
        }, "every ordinal at the last revision");
        AssertMatches(@"statefulset rolling update complete 4 pods at revision db-\w+\.\.\.", await Ok("rollout", "status", "statefulset/db", "-n", Apps, "--timeout=60s"));
        Assert.Empty(BackgroundErrors);
    }

    [Fact]
    public async Task OnDelete_replaces_nothing_until_a_pod_is_deleted_for_both_kinds()
    {
        await Apply("ondelete.yaml", string.Join("\n---\n",
            StatefulSetYaml("queue", 2, "updateStrategy: {type: OnDelete}"),
            DaemonSetYaml("logs", "updateStrategy: {type: OnDelete}", OwnNodes)));
        await Eventually(async () => Number(await Get("statefulset", "queue"), "status", "readyReplicas") == 2, "queue ready");
        await Eventually(async () => Number(await Get("daemonset", "logs"), "status", "numberReady") == 3, "logs on every node");
        var queueBefore = (await Pods("queue")).Select(p => Text(p, "metadata", "uid")).ToHashSet();
        var logsBefore = (await Pods("logs")).Select(p => Text(p, "metadata", "uid")).ToHashSet();

        await Ok("set", "image", "statefulset/queue", "-n", Apps, "main=registry.local/infra/agent:2");
        await Ok("set", "image", "daemonset/logs", "-n", Apps, "main=registry.local/infra/agent:2");
        await WaitObserved("statefulset", "queue");
        await WaitObserved("daemonset", "logs");
        var queue = await Get("statefulset", "queue");
        Assert.NotEqual(Text(queue, "status", "currentRevision"), Text(queue, "status", "updateRevision"));
        Assert.Null((await Get("daemonset", "logs"))["status"]!["updatedNumberScheduled"]);
        Assert.Equal(queueBefore, (await Pods("queue")).Select(p => Text(p, "metadata", "uid")).ToHashSet());
        Assert.Equal(logsBefore, (await Pods("logs")).Select(p => Text(p, "metadata", "uid")).ToHashSet());

        var refusedStatus = await Run("rollout", "status", "statefulset/queue", "-n", Apps, "--timeout=5s");
        Assert.NotEqual(0, refusedStatus.ExitCode);
        Assert.Contains("rollout status is only available for RollingUpdate strategy type", refusedStatus.Error);
        refusedStatus = await Run("rollout", "status", "daemonset/logs", "-n", Apps, "--timeout=5s");
        Assert.NotEqual(0, refusedStatus.ExitCode);
        Assert.Contains("rollout status is only available for RollingUpdate strategy type", refusedStatus.Error);

        var victim = (await Pods("logs")).First();
        await Ok("delete", "pod", Text(victim, "metadata", "name"), "-n", Apps, "--wait=false");
        await Ok("delete", "pod", "queue-0", "-n", Apps, "--wait=false");
        await Eventually(async () => Number(await Get("daemonset", "logs"), "status", "updatedNumberScheduled") == 1
            && Number(await Get("daemonset", "logs"), "status", "numberReady") == 3, "one new daemon pod");
        await Eventually(async () => Number(await Get("statefulset", "queue"), "status", "updatedReplicas") == 1
            && Number(await Get("statefulset", "queue"), "status", "readyReplicas") == 2, "queue-0 recreated");
        var logs = await Pods("logs");
        Assert.Equal(2, logs.Count(p => logsBefore.Contains(Text(p, "metadata", "uid"))));
        Assert.Equal("2", Label(logs.Single(p => !logsBefore.Contains(Text(p, "metadata", "uid"))), "pod-template-generation"));
        queue = await Get("statefulset", "queue");
        var byName = (await Pods("queue")).ToDictionary(p => Text(p, "metadata", "name"));
        Assert.Equal(Text(queue, "status", "updateRevision"), Label(byName["queue-0"], "controller-revision-hash"));
        Assert.Equal(Text(queue, "status", "currentRevision"), Label(byName["queue-1"], "controller-revision-hash"));
        Assert.Contains(Text(byName["queue-1"], "metadata", "uid"), queueBefore);
        // Under OnDelete the current revision does not move on, and currentReplicas counts only the old pod.
        Assert.Equal(1, Number(queue, "status", "currentReplicas"));
        Assert.Empty(BackgroundErrors);
    }

    [Fact]
    public async Task DaemonSet_places_one_pod_per_eligible_node_and_a_rolling_update_replaces_every_pod()
    {
        var (edge, plain, tainted) = (NodeNames[0], NodeNames[1], NodeNames[2]);
        await Ok("label", "node", edge, "tier=edge");
        await Ok("taint", "node", tainted, "dedicated=gpu:NoSchedule");
        await Apply("daemons.yaml", string.Join("\n---\n",
            DaemonSetYaml("agent", "", OwnNodes),
            DaemonSetYaml("edge", "", $"nodeSelector: {{{NodeLabel}: {NodeLabelValue}, tier: edge}}"),
            DaemonSetYaml("gpu", "", OwnNodes + "\n      tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]")));
        await Eventually(async () => Number(await Get("daemonset", "agent"), "status", "numberReady") == 2
            && Number(await Get("daemonset", "gpu"), "status", "numberReady") == 3
            && Number(await Get("daemonset", "edge"), "status", "numberReady") == 1, "daemon pods ready");

        Assert.Equal([edge, plain], (await Pods("agent")).Select(p => Text(p, "spec", "nodeName")).Order().ToArray());
        Assert.Equal([edge], (await Pods("edge")).Select(p => Text(p, "spec", "nodeName")).ToArray());
        var gpuPod = (await Pods("gpu")).Single(p => Text(p, "spec", "nodeName") == tainted);
        Assert.Equal(
            """[{"matchFields":[{"key":"metadata.name","operator":"In","values":["NODE"]}]}]""".Replace("NODE", tainted, StringComparison.Ordinal),
            gpuPod["spec"]!["affinity"]!["nodeAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]!["nodeSelectorTerms"]!.ToJsonString());
        Assert.Equal(
            ["dedicated:NoSchedule", "node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/disk-pressure:NoSchedule",
                "node.kubernetes.io/memory-pressure:NoSchedule", "node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"],
            gpuPod["spec"]!["tolerations"]!.AsArray().Select(t => $"{Text(t, "key")}:{Text(t, "effect")}").ToArray());
        Assert.Null(gpuPod["spec"]!["tolerations"]![1]!["tolerationSeconds"]);
        Assert.Equal("1", Label(gpuPod, "pod-template-generation"));
        AssertMatches(@"(?m)^edge\s+1\s+1\s+1\s+1\s+1\s+tier=edge,workload-test=", await Ok("get", "daemonset", "edge", "-n", Apps));

        var before = (await Pods("gpu")).Select(p => Text(p, "metadata", "uid")).ToHashSet();
        await Ok("set", "image", "daemonset/gpu", "-n", Apps, "main=registry.local/infra/agent:2");
        Assert.Contains("daemon set \"gpu\" successfully rolled out", await Ok("rollout", "status", "daemonset/gpu", "-n", Apps, "--timeout=60s"));
        var gpu = await Get("daemonset", "gpu");
        Assert.Equal(3, Number(gpu, "status", "updatedNumberScheduled"));
        Assert.Equal(3, Number(gpu, "status", "numberAvailable"));
        var after = await Pods("gpu");
        Assert.Equal(3, after.Count(p => p["metadata"]!["deletionTimestamp"] is null));
        Assert.DoesNotContain(after, p => before.Contains(Text(p, "metadata", "uid")));
        Assert.All(after, p => Assert.Equal("2", Label(p, "pod-template-generation")));
        Assert.Single(after.Select(p => Label(p, "controller-revision-hash")).Distinct());

        // A NoSchedule taint added later keeps the running pod (misscheduled); the node gets no new one.
        await Ok("taint", "node", plain, "dedicated=gpu:NoSchedule");
        await Eventually(async () => Number(await Get("daemonset", "agent"), "status", "numberMisscheduled") == 1, "agent misscheduled on the newly tainted node");
        var agent = await Get("daemonset", "agent");
        Assert.Equal(1, Number(agent, "status", "desiredNumberScheduled"));
        Assert.Equal(2, (await Pods("agent")).Count);
        Assert.Empty(BackgroundErrors);
    }
}
