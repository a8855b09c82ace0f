using System.Runtime.InteropServices;

namespace Kwarm.Tests.Noop;

/// <summary>A target of build.sh, and how to run its output on the machine running the tests.</summary>
internal sealed record NoopArchitecture(string Name, ushort ElfMachine, Architecture Runtime, string Emulator)
{
    public static readonly NoopArchitecture Amd64 = new("amd64", ElfImage.MachineX86_64, Architecture.X64, "qemu-x86_64");
    public static readonly NoopArchitecture Arm64 = new("arm64", ElfImage.MachineAArch64, Architecture.Arm64, "qemu-aarch64");

    public static IReadOnlyList<NoopArchitecture> All { get; } = [Amd64, Arm64];

    public static NoopArchitecture Named(string name) =>
        All.SingleOrDefault(a => a.Name == name)
        ?? throw new ArgumentException($"unknown architecture '{name}'", nameof(name));

    public bool IsNative => RuntimeInformation.OSArchitecture == Runtime;
}
