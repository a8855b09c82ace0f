using System.Text.Json.Nodes;

namespace Kwarm.Tests.Resources;

/// <summary>
/// Objects with a status as Kwarm writes it. Samples carry no status (the API server ignores it on create),
/// so the status half of the schema and of the C# types is exercised with these.
/// </summary>
internal static class StatusExamples
{
    public static JsonNode PrePullImageInProgress() => YamlJson.ReadSingle("""
        apiVersion: kwarm.io/v1alpha1
        kind: PrePullImage
        metadata:
          name: web-5d8f7c-0
          namespace: shop
          generation: 1
          labels:
            kwarm.io/deployment: web
            kwarm.io/hold: 5d8f7c
        spec:
          image: registry.example.com/shop/web:1.28.0
          imageDigest: sha256:0f2b6c4f8ad1b3c7a6e2d9f1c0b4a7e8d3c2b1a09f8e7d6c5b4a39281706f5e4
          nodes:
            names:
              - node-a
              - node-b
              - node-c
              - node-d
          timeout: 10m
          retry:
            maxAttempts: 3
            backoffSeconds: 30
        status:
          phase: InProgress
          summary:
            total: 4
            pending: 0
            pulling: 1
            completed: 1
            skipped: 1
            failed: 1
          nodes:
            - node: node-a
              status: Completed
              startedAt: "2026-11-26T10:00:00Z"
              completedAt: "2026-11-26T10:00:12Z"
              duration: 12.5s
              retryCount: 0
            - node: node-b
              status: Skipped
            - node: node-c
              status: Pulling
              startedAt: "2026-11-26T10:00:00Z"
              retryCount: 1
              jobName: web-5d8f7c-0-node-c-2
            - node: node-d
              status: Failed
              startedAt: "2026-11-26T10:00:00Z"
              completedAt: "2026-11-26T10:02:03Z"
              error: 'rpc error: code = NotFound desc = failed to pull and unpack image "registry.example.com/shop/web:1.28.0": not found'
              retryCount: 3
          conditions:
            - type: Ready
              status: "False"
              reason: Pulling
              message: 2 of 4 nodes done
              lastTransitionTime: "2026-11-26T10:00:00Z"
              observedGeneration: 1
          startTime: "2026-11-26T10:00:00Z"
          observedGeneration: 1
        """);

    public static JsonNode PrePullPolicyActive() => YamlJson.ReadSingle("""
        apiVersion: kwarm.io/v1alpha1
        kind: PrePullPolicy
        metadata:
          name: default
        spec:
          selector:
            matchLabels:
              kwarm.io/enabled: "true"
        status:
          watchedDeployments: 12
          activeHolds: 2
          lastUpdated: "2026-11-26T10:00:05Z"
          conditions:
            - type: Conflict
              status: "True"
              reason: OlderPolicyWins
              message: policy legacy is older and wins for shop/web
              lastTransitionTime: "2026-11-26T09:00:00Z"
        """);
}
