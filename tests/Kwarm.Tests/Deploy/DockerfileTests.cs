using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// No container engine exists here, so the Dockerfile is checked by reading it, and its build stage's commands are
/// run as they are, on a copy of exactly what the stage copies, to prove the image's publish works.
/// </summary>
public sealed class DockerfileTests
{
    /// <summary>The command the image is published with; the Dockerfile must say exactly this.</summary>
    private const string PublishCommand = "dotnet publish src/Kwarm -c Release -a $TARGETARCH --no-restore -o /app";

    private static string DockerfilePath => Manifests.InRepository("Dockerfile");

    [Fact]
    public void Build_stage_publishes_on_the_builder_platform_with_the_sdk()
    {
        var stages = Dockerfile.Stages(DockerfilePath);

        var build = Assert.Single(stages, stage => stage.Name == "build");
        Assert.Equal("--platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:10.0 AS build", build.From);
        Assert.Contains("TARGETARCH", build.All("ARG"));
        var dotnetCommands = build.All("RUN").Where(command => command.StartsWith("dotnet ", StringComparison.Ordinal)).ToList();
        Assert.Equal(PublishCommand, dotnetCommands[^1]);
        Assert.All(build.All("RUN"), command => Assert.StartsWith("dotnet ", command, StringComparison.Ordinal));
    }

    [Fact]
    public void Noop_stage_cross_compiles_both_architectures_with_the_helper_build_script()
    {
        var noop = Assert.Single(Dockerfile.Stages(DockerfilePath), stage => stage.Name == "noop");

        Assert.Equal("--platform=$BUILDPLATFORM debian:bookworm-slim AS noop", noop.From);
        var install = Assert.Single(noop.All("RUN"), command => command.Contains("apt-get install", StringComparison.Ordinal));
        foreach (var package in new[] { " gcc ", " gcc-aarch64-linux-gnu ", " binutils " })
        {
            Assert.Contains(package, install + " ", StringComparison.Ordinal);
        }

        Assert.Contains("/src/Kwarm.Noop/build.sh /out all", noop.All("RUN"));
        Assert.True(File.Exists(Manifests.InRepository("src", "Kwarm.Noop", "build.sh")));
    }

    [Fact]
    public void Final_stage_is_the_chiseled_runtime_running_as_65532_with_the_noop_helper()
    {
        var final = Dockerfile.Stages(DockerfilePath)[^1];

        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled", final.From, StringComparison.Ordinal);
        Assert.DoesNotContain("--platform", final.From, StringComparison.Ordinal);
        Assert.Equal("65532:65532", final.All("USER").Last());
        Assert.Contains("--from=build /app ./", final.All("COPY"));
        Assert.Contains("TARGETARCH", final.All("ARG"));
        // The pull Job's init container runs `/kwarm/bin/noop install /kwarm/noop`: this path is a contract.
        Assert.Contains("--from=noop /out/noop-${TARGETARCH} /kwarm/bin/noop", final.All("COPY"));
        Assert.Equal("/app", final.All("WORKDIR").Last());
        Assert.Equal("[\"dotnet\", \"Kwarm.dll\"]", final.All("ENTRYPOINT").Single());
        Assert.Empty(final.All("RUN"));
    }

    [Fact]
    public void Dockerignore_keeps_what_the_build_copies()
    {
        var ignored = File.ReadAllLines(Manifests.InRepository(".dockerignore"))
            .Select(line => line.Trim()).Where(line => line.Length > 0 && !line.StartsWith('#')).ToList();
        var copied = Dockerfile.Stages(DockerfilePath).SelectMany(stage => stage.All("COPY"))
            .Where(arguments => !arguments.StartsWith("--from", StringComparison.Ordinal))
            .Select(arguments => arguments.Split(' ')[0].TrimEnd('/')).ToList();

        Assert.NotEmpty(copied);
        foreach (var source in copied)
        {
            Assert.True(File.Exists(Manifests.InRepository(source)) || Directory.Exists(Manifests.InRepository(source)), source);
            Assert.DoesNotContain(ignored, pattern => pattern.TrimEnd('/') == source || source.StartsWith(pattern.TrimEnd('/') + "/", StringComparison.Ordinal));
        }

        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
    }

    /// <summary>The CI check of the issue: the build stage's own commands, run in a copy of its context.</summary>
    [Fact]
    public async Task Build_stage_commands_publish_a_framework_dependent_kwarm()
    {
        var build = Assert.Single(Dockerfile.Stages(DockerfilePath), stage => stage.Name == "build");
        var architecture = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "amd64";
        var context = Directory.CreateTempSubdirectory("kwarm-image-");
        try
        {
            var workdir = context.FullName;
            var output = Path.Combine(context.FullName, "app");
            var ran = new List<string>();
            foreach (var instruction in build.Instructions)
            {
                switch (instruction.Keyword)
                {
                    case "COPY":
                        var parts = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        CopyIntoContext(Manifests.InRepository(parts[0]), Path.GetFullPath(Path.Combine(workdir, parts[1])));
                        break;
                    case "RUN":
                        var command = instruction.Arguments.Replace("$TARGETARCH", architecture, StringComparison.Ordinal);
                        var arguments = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                            .Select(word => word == "/app" ? output : word).ToList();
                        var result = await RunDotnetAsync(arguments.Skip(1), workdir);
                        Assert.True(result.ExitCode == 0, $"{command} failed:\n{result.Output}");
                        ran.Add(instruction.Arguments);
                        break;
                    case "WORKDIR" or "ARG":
                        break;
                    default:
                        throw new Xunit.Sdk.XunitException($"the build stage gained a {instruction.Keyword}: teach this test to run it");
                }
            }

            Assert.Equal(PublishCommand, ran[^1]);
            Assert.True(File.Exists(Path.Combine(output, "Kwarm.dll")), "Kwarm.dll was not published");
            var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "Kwarm.runtimeconfig.json")))!;
            // Framework-dependent: the chiseled ASP.NET image supplies the runtime.
            Assert.Null(runtimeConfig["runtimeOptions"]!["includedFrameworks"]);
            var frameworks = runtimeConfig["runtimeOptions"]!["frameworks"]?.AsArray().Select(item => Manifests.Str(item!["name"]))
                ?? [Manifests.Str(runtimeConfig["runtimeOptions"]!["framework"]!["name"])];
            Assert.Contains("Microsoft.AspNetCore.App", frameworks);
        }
        finally
        {
            context.Delete(recursive: true);
        }
    }

    private static void CopyIntoContext(string source, string destination)
    {
        if (File.Exists(source))
        {
            var target = destination.EndsWith(Path.DirectorySeparatorChar) ? Path.Combine(destination, Path.GetFileName(source)) : destination;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target, overwrite: true);
            return;
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            // .dockerignore: **/bin/ and **/obj/ never reach the context.
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"))
            {
                continue;
            }

            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunDotnetAsync(IEnumerable<string> arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild settings must not leak into the nested build.
        foreach (var key in start.Environment.Keys.Where(key => key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        // A guard against a hung build, not a speed assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var standardOutput = process.StandardOutput.ReadToEndAsync(guard.Token);
        var standardError = process.StandardError.ReadToEndAsync(guard.Token);
        try
        {
            await process.WaitForExitAsync(guard.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await standardOutput + await standardError);
    }
}
