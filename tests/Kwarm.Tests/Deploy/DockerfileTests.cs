using System.Diagnostics;
using System.Runtime.InteropServices;
using Kwarm.Tests.Noop;

namespace Kwarm.Tests.Deploy;

/// <summary>
/// No container engine exists here, so the Dockerfile is checked by reading it, and its build stage's commands are
/// run as they are, on a copy of exactly what the stage copies, to prove the image's publish works.
/// </summary>
[Trait("Lane", "Packaging")]
public sealed class DockerfileTests
{
    /// <summary>The command the image is published with; the Dockerfile must say exactly this.</summary>
    private const string PublishCommand = "dotnet publish src/Kwarm -c Release -a $TARGETARCH --no-restore -o /app";

    private static string DockerfilePath => Manifests.InRepository("Dockerfile");

    /// <summary>The build stage's one non-dotnet command: NativeAOT's platform linker and zlib.</summary>
    private const string LinkerInstall = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*";

    [Fact]
    public void Build_stage_compiles_ahead_of_time_on_the_target_platform_with_the_sdk()
    {
        var stages = Dockerfile.Stages(DockerfilePath);

        var build = Assert.Single(stages, stage => stage.Name == "build");
        // No --platform=$BUILDPLATFORM: NativeAOT links for the platform it runs on.
        Assert.Equal("mcr.microsoft.com/dotnet/sdk:10.0 AS build", build.From);
        Assert.Contains("TARGETARCH", build.All("ARG"));
        var dotnetCommands = build.All("RUN").Where(command => command.StartsWith("dotnet ", StringComparison.Ordinal)).ToList();
        Assert.Equal(PublishCommand, dotnetCommands[^1]);
        Assert.Equal([LinkerInstall], build.All("RUN").Except(dotnetCommands));
        Assert.Equal("true", ProjectProperty("PublishAot"));
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

        // A native binary needs no .NET runtime, only what it links against.
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled", final.From, StringComparison.Ordinal);
        Assert.DoesNotContain("--platform", final.From, StringComparison.Ordinal);
        Assert.Equal("65532:65532", final.All("USER").Last());
        Assert.Contains("--from=build /app/Kwarm ./", final.All("COPY"));
        Assert.Contains("TARGETARCH", final.All("ARG"));
        // The pull Job's init container runs `/kwarm/bin/noop install /kwarm/noop`: this path is a contract.
        Assert.Contains("--from=noop /out/noop-${TARGETARCH} /kwarm/bin/noop", final.All("COPY"));
        Assert.Equal("/app", final.All("WORKDIR").Last());
        Assert.Equal("[\"/app/Kwarm\"]", final.All("ENTRYPOINT").Single());
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

    /// <summary>
    /// The CI check of the image: the build stage's own commands, run in a copy of its context, and the native binary
    /// they publish run through the guided hold on the simulator. This is the only test of the ahead-of-time compiled
    /// Kwarm, whose JSON and kubeconfig paths differ from the JIT's when something is missing (see KwarmJson).
    /// </summary>
    [Fact]
    public async Task Build_stage_commands_publish_a_native_kwarm_that_holds_warms_and_releases_a_rollout()
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
                    case "RUN" when instruction.Arguments == LinkerInstall:
                        // Not run here: this machine's compiler must do (NativeAOT takes clang, or gcc when clang is absent).
                        Assert.True(ProcessRun.FindOnPath("clang") is not null || ProcessRun.FindOnPath("gcc") is not null, "NativeAOT needs clang or gcc on PATH (and zlib1g-dev)");
                        break;
                    case "RUN":
                        var command = instruction.Arguments.Replace("$TARGETARCH", architecture, StringComparison.Ordinal);
                        var arguments = command.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                            .Select(word => word == "/app" ? output : word).ToList();
                        // A guard against a hung build, not a speed assertion: a native compile takes minutes on two cores.
                        var result = await RunDotnetAsync(arguments.Skip(1), workdir, TimeSpan.FromMinutes(30));
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
            var binary = Path.Combine(output, "Kwarm");
            Assert.True(File.Exists(binary), "no native Kwarm binary was published");
            Assert.Equal("\u007fELF"u8.ToArray(), File.ReadAllBytes(binary)[..4]);
            Assert.False(File.Exists(Path.Combine(output, "Kwarm.dll")), "an IL assembly was published: the image would need the .NET runtime");

            // The guided run (the README's run command) with the published binary in Kwarm's place.
            // `dotnet test Kwarm.sln` builds only the test projects and what they reference, so build the guided run here
            // (in the tests' own configuration, where Kwarm and the simulator are already up to date).
            var localProject = Manifests.InRepository("src", "Kwarm.Local");
            var built = await RunDotnetAsync(["build", localProject, "-c", BuildConfiguration], workdir, TimeSpan.FromMinutes(10));
            Assert.True(built.ExitCode == 0, $"building the guided run failed:\n{built.Output}");
            var demo = Path.Combine(localProject, "bin", BuildConfiguration, "net10.0", "Kwarm.Local.dll");
            var run = await RunDotnetAsync([demo, "--nodes", "5", "--kwarm", binary], workdir, TimeSpan.FromMinutes(5));
            Assert.True(run.ExitCode == 0, $"the guided run with the native Kwarm failed:\n{run.Output}");
            Assert.Contains("held: spec.paused=true", run.Output, StringComparison.Ordinal);
            Assert.Contains("pulling: 5/5 nodes warm", run.Output, StringComparison.Ordinal);
            Assert.Contains("released: kwarm.io/released=", run.Output, StringComparison.Ordinal);
            Assert.Contains("image pulls by the new pods: 0", run.Output, StringComparison.Ordinal);
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

    /// <summary>Debug or Release: the configuration this test assembly (and so the solution) was built in.</summary>
    private static string BuildConfiguration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    private static string? ProjectProperty(string name) =>
        System.Xml.Linq.XDocument.Load(Manifests.InRepository("src", "Kwarm", "Kwarm.csproj"))
            .Descendants(name).SingleOrDefault()?.Value;

    private static async Task<(int ExitCode, string Output)> RunDotnetAsync(IEnumerable<string> arguments, string workingDirectory, TimeSpan guardAfter)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            // Never the test process's own stdin: xunit's runner talks to the test process through it, and a child that
            // reads it can end the whole test run ("Test process crashed with exit code 0"). Closed at once after the start.
            RedirectStandardInput = true,
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
        process.StandardInput.Close();
        using var guard = new CancellationTokenSource(guardAfter);
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
