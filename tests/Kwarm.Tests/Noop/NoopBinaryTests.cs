using System.Runtime.Versioning;

namespace Kwarm.Tests.Noop;

// The helper is a Linux executable; the pods that run it are Linux pods.
[Trait("Lane", "Packaging")]
[SupportedOSPlatform("linux")]
public sealed class NoopBinaryTests(NoopBuild build) : IClassFixture<NoopBuild>
{
    private const UnixFileMode ExecutableMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public void Binary_is_a_static_ELF64_executable_for_its_architecture(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var image = ElfImage.Parse(File.ReadAllBytes(build.BinaryFor(architecture)));

        Assert.Equal(architecture.ElfMachine, image.Machine);
        Assert.Equal(ElfImage.Executable, image.FileType);
        Assert.False(image.Has(ElfSegment.Interpreter), "a PT_INTERP header means the binary needs a dynamic loader the target image may not have");
        Assert.False(image.Has(ElfSegment.Dynamic), "a PT_DYNAMIC header means the binary is dynamically linked");
        var code = Assert.Single(image.Segments, s => s.Type == ElfSegment.Load && s.Contains(image.EntryPoint));
        Assert.Equal(ElfSegment.Execute, code.Flags & ElfSegment.Execute);
        var stack = Assert.Single(image.Segments, s => s.Type == ElfSegment.GnuStack);
        Assert.Equal(0u, stack.Flags & ElfSegment.Execute);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Without_arguments_it_exits_0_silently(string name)
    {
        var architecture = NoopArchitecture.Named(name);

        var run = await NoopBuild.RunAsync(architecture, build.BinaryFor(architecture), [], Cancellation);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(string.Empty, run.StandardOutput);
        Assert.Equal(string.Empty, run.StandardError);
    }

    [Theory]
    [InlineData("amd64", "--version")]
    [InlineData("amd64", "INSTALL", "{dest}")]
    [InlineData("amd64", "installx", "{dest}")]
    [InlineData("amd64", "sh", "-c", "exit 3")]
    [InlineData("amd64", "--", "install", "{dest}")]
    [InlineData("arm64", "--help")]
    [InlineData("arm64", "Install", "{dest}")]
    public async Task Arguments_other_than_install_are_ignored(string name, params string[] arguments)
    {
        var architecture = NoopArchitecture.Named(name);
        var destination = Path.Combine(build.NewScratchDirectory(), "noop");

        var run = await NoopBuild.RunAsync(
            architecture, build.BinaryFor(architecture), [.. arguments.Select(a => a.Replace("{dest}", destination, StringComparison.Ordinal))], Cancellation);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(string.Empty, run.StandardOutput + run.StandardError);
        Assert.False(File.Exists(destination), "an ignored invocation wrote its destination");
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Install_copies_the_binary_byte_for_byte_with_mode_0755_and_the_copy_runs(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var binary = build.BinaryFor(architecture);
        var destination = Path.Combine(build.NewScratchDirectory(), "noop");

        var install = await NoopBuild.RunAsync(architecture, binary, ["install", destination], Cancellation);

        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Equal(string.Empty, install.StandardOutput + install.StandardError);
        Assert.Equal(await File.ReadAllBytesAsync(binary, Cancellation), await File.ReadAllBytesAsync(destination, Cancellation));
        Assert.Equal(ExecutableMode, File.GetUnixFileMode(destination));
        var copy = await NoopBuild.RunAsync(architecture, destination, [], Cancellation);
        Assert.True(copy.ExitCode == 0, copy.ToString());
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Install_over_an_existing_larger_file_truncates_it_and_resets_its_mode(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var binary = build.BinaryFor(architecture);
        var destination = Path.Combine(build.NewScratchDirectory(), "noop");
        await File.WriteAllBytesAsync(destination, new byte[256 * 1024], Cancellation);
        File.SetUnixFileMode(destination, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var install = await NoopBuild.RunAsync(architecture, binary, ["install", destination], Cancellation);

        Assert.True(install.ExitCode == 0, install.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(binary, Cancellation), await File.ReadAllBytesAsync(destination, Cancellation));
        Assert.Equal(ExecutableMode, File.GetUnixFileMode(destination));
    }

    [Theory]
    [InlineData("amd64", "install")]
    [InlineData("amd64", "install", "")]
    [InlineData("amd64", "install", "/tmp/a", "/tmp/b")]
    [InlineData("arm64", "install")]
    [InlineData("arm64", "install", "/tmp/a", "/tmp/b")]
    public async Task Install_without_exactly_one_destination_prints_usage_and_exits_2(string name, params string[] arguments)
    {
        var architecture = NoopArchitecture.Named(name);

        var run = await NoopBuild.RunAsync(architecture, build.BinaryFor(architecture), arguments, Cancellation);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal(string.Empty, run.StandardOutput);
        var line = AssertOneLine(run.StandardError);
        Assert.StartsWith("usage: noop", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Install_into_a_missing_directory_fails_with_one_line_naming_the_path(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var destination = Path.Combine(build.NewScratchDirectory(), "nonexistent-dir", "noop");

        var run = await NoopBuild.RunAsync(architecture, build.BinaryFor(architecture), ["install", destination], Cancellation);

        Assert.True(run.ExitCode == 1, run.ToString());
        var line = AssertOneLine(run.StandardError);
        Assert.Equal($"noop: install: cannot create {destination}: no such file or directory", line);
        Assert.False(File.Exists(destination));
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Install_onto_a_directory_fails_with_one_line(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var destination = build.NewScratchDirectory();

        var run = await NoopBuild.RunAsync(architecture, build.BinaryFor(architecture), ["install", destination], Cancellation);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal($"noop: install: cannot create {destination}: is a directory", AssertOneLine(run.StandardError));
    }

    [Fact]
    public async Task A_newline_in_the_destination_cannot_split_the_error_into_two_lines()
    {
        var architecture = NoopArchitecture.Amd64;
        var destination = Path.Combine(build.NewScratchDirectory(), "missing\ndir", "noop");

        var run = await NoopBuild.RunAsync(architecture, build.BinaryFor(architecture), ["install", destination], Cancellation);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("missing?dir", AssertOneLine(run.StandardError), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("amd64")]
    [InlineData("arm64")]
    public async Task Two_builds_give_identical_bytes(string name)
    {
        var architecture = NoopArchitecture.Named(name);
        var first = build.BinaryFor(architecture);
        var secondDirectory = build.NewScratchDirectory();

        var rebuild = await build.BuildAsync(secondDirectory, architecture.Name, Cancellation);

        Assert.True(rebuild.ExitCode == 0, rebuild.ToString());
        Assert.Equal(
            await File.ReadAllBytesAsync(first, Cancellation),
            await File.ReadAllBytesAsync(Path.Combine(secondDirectory, $"noop-{architecture.Name}"), Cancellation));
    }

    [Theory]
    [InlineData("riscv64")]
    [InlineData("")]
    public async Task Build_script_rejects_an_unknown_architecture_with_usage(string architecture)
    {
        var run = await build.BuildAsync(build.NewScratchDirectory(), architecture, Cancellation);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.StartsWith("usage:", AssertOneLine(run.StandardError), StringComparison.Ordinal);
    }

    private static string AssertOneLine(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var line = text[..^1];
        Assert.DoesNotContain('\n', line);
        return line;
    }
}
