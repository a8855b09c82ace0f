using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Kwarm.Tests.Noop;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// Helm's own <c>helm template</c> (Helm v3.9.0's chart loader, values coalescing, <c>values.schema.json</c> check and
/// template engine, built from Helm's source) from <c>../shared/tools/helm-template.xz</c> beside the repository, as
/// <c>.ci/run</c> finds the control plane in <c>../shared/envtest</c>. It checks what <see cref="ChartTemplateRenderer"/>
/// cannot: that real Helm renders the chart the same way. Unpacked once per machine, into the temporary directory under
/// a name carrying the archive's hash.
/// </summary>
internal static class HelmTemplate
{
    private static readonly Lazy<Task<string>> Binary = new(UnpackAsync);

    /// <summary>The chart rendered by Helm with <paramref name="overrides"/> as a values file (none: values.yaml alone).</summary>
    public static async Task<IReadOnlyList<JsonObject>> RenderChartAsync(JsonObject? overrides = null, string releaseNamespace = Manifests.Namespace)
    {
        var binary = await Binary.Value;
        var work = Directory.CreateTempSubdirectory("kwarm-helm-values-");
        try
        {
            List<string> arguments = ["--namespace", releaseNamespace, "--release", "kwarm"];
            if (overrides is not null)
            {
                // JSON is YAML: Helm reads the values file as it is.
                var values = Path.Combine(work.FullName, "values.json");
                await File.WriteAllTextAsync(values, overrides.ToJsonString(), TestContext.Current.CancellationToken);
                arguments.AddRange(["-f", values]);
            }

            arguments.Add(Manifests.ChartDirectory);
            var run = await ProcessRun.StartAsync(binary, arguments, Manifests.Root, TestContext.Current.CancellationToken);
            Assert.True(run.ExitCode == 0, $"helm template failed: {run}");
            return Manifests.Parse(run.StandardOutput);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<string> UnpackAsync()
    {
        var archive = Path.GetFullPath(Path.Combine(Manifests.Root, "..", "shared", "tools", "helm-template.xz"));
        Assert.True(File.Exists(archive), $"{archive} is missing: the tests that render the chart with Helm itself need it beside the repository, as ../shared/envtest is for the real API server lane");
        Assert.True(ProcessRun.FindOnPath("xz") is not null, "xz is needed on PATH to unpack helm-template.xz (Debian: xz-utils, which .ci/run installs)");

        var hash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(archive)))[..16];
        var binary = Path.Combine(Path.GetTempPath(), $"kwarm-tests-helm-template-{hash}");
        if (File.Exists(binary))
        {
            return binary;
        }

        // Through sh, so the binary goes straight to a file (ProcessRun reads standard output as text); a partial file
        // of its own per process, moved into place whole, so concurrent test runs never execute half a binary.
        var partial = binary + $".{Environment.ProcessId}.partial";
        var unpack = await ProcessRun.StartAsync("/bin/sh", ["-c", "xz -dc \"$1\" > \"$2\" && chmod +x \"$2\"", "sh", archive, partial], null, CancellationToken.None);
        Assert.True(unpack.ExitCode == 0, $"xz could not unpack {archive}: {unpack}");
        File.Move(partial, binary, overwrite: true);
        return binary;
    }
}
