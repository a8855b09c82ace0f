namespace Kwarm.Tests.Noop;

/// <summary>The hand-written ELF reader must see what the noop tests rely on it not seeing.</summary>
public sealed class ElfImageTests
{
    [Fact]
    public void A_dynamically_linked_executable_shows_its_interpreter_and_dynamic_section()
    {
        // The dotnet host running these tests is an ordinary glibc program.
        var host = Environment.ProcessPath;
        Assert.NotNull(host);

        var image = ElfImage.Parse(File.ReadAllBytes(host));

        Assert.True(image.Has(ElfSegment.Interpreter));
        Assert.True(image.Has(ElfSegment.Dynamic));
        Assert.Contains(image.Segments, s => s.Type == ElfSegment.Load && s.Contains(image.EntryPoint));
    }

    [Fact]
    public void Bytes_that_are_not_ELF_are_rejected_with_a_reason()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfImage.Parse("#!/bin/sh\nexit 0\n"u8));

        Assert.Contains("not an ELF file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_program_header_table_past_the_end_of_the_file_is_rejected()
    {
        var header = new byte[64];
        "\u007fELF"u8.CopyTo(header);
        header[4] = 2; // ELFCLASS64
        header[5] = 1; // little-endian
        header[32] = 64; // e_phoff: right after the header
        header[54] = 56; // e_phentsize
        header[56] = 1; // e_phnum: one entry that the file does not hold

        var error = Assert.Throws<InvalidDataException>(() => ElfImage.Parse(header));

        Assert.Contains("past the end", error.Message, StringComparison.Ordinal);
    }
}
