using System.Buffers.Binary;

namespace Kwarm.Tests.Noop;

/// <summary>One entry of an ELF program header table (only the fields the tests look at).</summary>
internal sealed record ElfSegment(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize)
{
    public const uint Load = 1;
    public const uint Dynamic = 2;
    public const uint Interpreter = 3;
    public const uint GnuStack = 0x6474e551;

    public const uint Execute = 1;
    public const uint Write = 2;
    public const uint Read = 4;

    public bool Contains(ulong address) => address >= VirtualAddress && address < VirtualAddress + MemorySize;
}

/// <summary>
/// The ELF64 little-endian header and program headers of an executable, parsed by hand so the
/// tests do not trust the toolchain (readelf) that produced the binary.
/// </summary>
internal sealed record ElfImage(ushort FileType, ushort Machine, ulong EntryPoint, IReadOnlyList<ElfSegment> Segments)
{
    public const ushort Executable = 2;
    public const ushort MachineX86_64 = 62;
    public const ushort MachineAArch64 = 183;

    private const int HeaderSize = 64;
    private const int ProgramHeaderSize = 56;

    public bool Has(uint segmentType) => Segments.Any(s => s.Type == segmentType);

    public static ElfImage Parse(ReadOnlySpan<byte> file)
    {
        if (file.Length < HeaderSize || file[0] != 0x7f || file[1] != (byte)'E' || file[2] != (byte)'L' || file[3] != (byte)'F')
        {
            throw new InvalidDataException("not an ELF file (bad magic or shorter than an ELF header)");
        }

        if (file[4] != 2)
        {
            throw new InvalidDataException($"ELF class {file[4]} is not ELFCLASS64");
        }

        if (file[5] != 1)
        {
            throw new InvalidDataException($"ELF data encoding {file[5]} is not little-endian");
        }

        var fileType = BinaryPrimitives.ReadUInt16LittleEndian(file[16..]);
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(file[18..]);
        var entry = BinaryPrimitives.ReadUInt64LittleEndian(file[24..]);
        var tableOffset = BinaryPrimitives.ReadUInt64LittleEndian(file[32..]);
        var entrySize = BinaryPrimitives.ReadUInt16LittleEndian(file[54..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(file[56..]);

        if (count > 0 && entrySize != ProgramHeaderSize)
        {
            throw new InvalidDataException($"program header entry size {entrySize} is not {ProgramHeaderSize}");
        }

        if (tableOffset + ((ulong)count * ProgramHeaderSize) > (ulong)file.Length)
        {
            throw new InvalidDataException("program header table runs past the end of the file");
        }

        var segments = new List<ElfSegment>(count);
        for (var i = 0; i < count; i++)
        {
            var entryBytes = file.Slice((int)tableOffset + (i * ProgramHeaderSize), ProgramHeaderSize);
            segments.Add(new ElfSegment(
                Type: BinaryPrimitives.ReadUInt32LittleEndian(entryBytes),
                Flags: BinaryPrimitives.ReadUInt32LittleEndian(entryBytes[4..]),
                Offset: BinaryPrimitives.ReadUInt64LittleEndian(entryBytes[8..]),
                VirtualAddress: BinaryPrimitives.ReadUInt64LittleEndian(entryBytes[16..]),
                FileSize: BinaryPrimitives.ReadUInt64LittleEndian(entryBytes[32..]),
                MemorySize: BinaryPrimitives.ReadUInt64LittleEndian(entryBytes[40..])));
        }

        return new ElfImage(fileType, machine, entry, segments);
    }
}
