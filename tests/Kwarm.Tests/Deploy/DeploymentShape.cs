using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>What both installs (kustomize and Helm) must say about Kwarm's own pods.</summary>
internal static class DeploymentShape
{
    public static void AssertRestricted(JsonNode pod, JsonNode container)
    {
        var podSecurity = pod["securityContext"]!;
        Assert.True(podSecurity["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal(65532, podSecurity["runAsUser"]!.GetValue<int>());
        Assert.Equal("RuntimeDefault", Manifests.Str(podSecurity["seccompProfile"]!["type"]));

        var security = container["securityContext"]!;
        Assert.True(security["runAsNonRoot"]!.GetValue<bool>());
        Assert.Equal(65532, security["runAsUser"]!.GetValue<int>());
        Assert.True(security["readOnlyRootFilesystem"]!.GetValue<bool>());
        Assert.False(security["allowPrivilegeEscalation"]!.GetValue<bool>());
        Assert.Equal(["ALL"], security["capabilities"]!["drop"]!.AsArray().Select(Manifests.Str));
        Assert.Null(security["capabilities"]!["add"]);
        Assert.Null(security["privileged"]);
        Assert.Equal("RuntimeDefault", Manifests.Str(security["seccompProfile"]!["type"]));
    }

    public static void AssertProbes(JsonNode container, int expectedPort)
    {
        var liveness = container["livenessProbe"]!["httpGet"]!;
        var readiness = container["readinessProbe"]!["httpGet"]!;
        Assert.Equal("/healthz", Manifests.Str(liveness["path"]));
        Assert.Equal("/readyz", Manifests.Str(readiness["path"]));
        Assert.Equal(expectedPort, ResolvePort(container, liveness["port"]!));
        Assert.Equal(expectedPort, ResolvePort(container, readiness["port"]!));
        var healthFlag = Flag(container, "health-probe-bind-address");
        Assert.EndsWith($":{expectedPort}", healthFlag, StringComparison.Ordinal);
    }

    public static void AssertCertificateMountedAtCertDir(JsonNode pod, JsonNode container, string secretName)
    {
        var certDir = Flag(container, "webhook-cert-dir");
        var mount = Assert.Single(container["volumeMounts"]!.AsArray(), mount => Manifests.Str(mount!["mountPath"]) == certDir)!;
        var volume = Assert.Single(pod["volumes"]!.AsArray(), volume => Manifests.Str(volume!["name"]) == Manifests.Str(mount["name"]))!;
        Assert.Equal(secretName, Manifests.Str(volume["secret"]!["secretName"]));
    }

    public static void AssertDownwardApiEnvironment(JsonNode container)
    {
        var env = container["env"]!.AsArray().ToDictionary(item => Manifests.Str(item!["name"])!, item => Manifests.Str(item!["valueFrom"]?["fieldRef"]?["fieldPath"]), StringComparer.Ordinal);
        Assert.Equal("metadata.name", env["POD_NAME"]);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"]);
    }

    /// <summary>The value of <c>--name=value</c> in the container's args (or "true" for a bare switch).</summary>
    public static string Flag(JsonNode container, string name)
    {
        var args = container["args"]!.AsArray().Select(arg => Manifests.Str(arg)!).ToList();
        var matches = args.Where(arg => arg == $"--{name}" || arg.StartsWith($"--{name}=", StringComparison.Ordinal)).ToList();
        var single = Assert.Single(matches);
        return single.Contains('=', StringComparison.Ordinal) ? single[(single.IndexOf('=', StringComparison.Ordinal) + 1)..] : "true";
    }

    /// <summary>A probe or Service port, numeric or named, as the container port number it reaches.</summary>
    public static int ResolvePort(JsonNode container, JsonNode port)
    {
        if (port is JsonValue value && value.TryGetValue<int>(out var number))
        {
            return number;
        }

        var named = Assert.Single(container["ports"]!.AsArray(), item => Manifests.Str(item!["name"]) == Manifests.Str(port))!;
        return named["containerPort"]!.GetValue<int>();
    }
}
