using Kwarm.Tests.Resources;

namespace Kwarm.Tests.Noop;

/// <summary>
/// Builds the noop helper once per test class with the repository's own build.sh, one
/// architecture at a time, so a missing cross-compiler fails only that architecture's tests,
/// with the script's own explanation.
/// </summary>
public sealed class NoopBuild : IAsyncLifetime
{
    private readonly Dictionary<string, ProcessRun> builds = [];

    public string RepositoryRoot { get; } = RepositoryFiles.Root;

    public string WorkDirectory { get; } = Directory.CreateTempSubdirectory("kwarm-noop-").FullName;

    public string BuildScript => Path.Combine(RepositoryRoot, "src", "Kwarm.Noop", "build.sh");

    public async ValueTask InitializeAsync()
    {
        foreach (var architecture in NoopArchitecture.All)
        {
            builds[architecture.Name] = await BuildAsync(
                Path.Combine(WorkDirectory, "build"), architecture.Name, TestContext.Current.CancellationToken);
        }
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(WorkDirectory, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>The binary built for <paramref name="architecture"/>; fails the calling test when that build failed.</summary>
    internal string BinaryFor(NoopArchitecture architecture)
    {
        var build = builds[architecture.Name];
        Assert.True(
            build.ExitCode == 0,
            $"build.sh could not build noop for {architecture.Name} (the tests need the Debian packages gcc and gcc-aarch64-linux-gnu; .ci/run installs them): {build}");
        return Path.Combine(WorkDirectory, "build", $"noop-{architecture.Name}");
    }

    internal Task<ProcessRun> BuildAsync(string outputDirectory, string architecture, CancellationToken cancellationToken) =>
        ProcessRun.StartAsync("bash", [BuildScript, outputDirectory, architecture], RepositoryRoot, cancellationToken);

    /// <summary>Runs a noop binary natively when the machine has that architecture, else under qemu-user.</summary>
    internal static Task<ProcessRun> RunAsync(
        NoopArchitecture architecture, string binary, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        if (architecture.IsNative)
        {
            return ProcessRun.StartAsync(binary, arguments, Path.GetDirectoryName(binary), cancellationToken);
        }

        var emulator = ProcessRun.FindOnPath(architecture.Emulator);
        Assert.True(
            emulator is not null,
            $"{architecture.Emulator} is not on PATH: the {architecture.Name} binary can only run under qemu-user (Debian package qemu-user; .ci/run installs it)");
        return ProcessRun.StartAsync(emulator, [binary, .. arguments], Path.GetDirectoryName(binary), cancellationToken);
    }

    /// <summary>A fresh empty directory that <see cref="DisposeAsync"/> removes.</summary>
    internal string NewScratchDirectory() =>
        Directory.CreateDirectory(Path.Combine(WorkDirectory, "scratch-" + Guid.NewGuid().ToString("N"))).FullName;
}
