using Kwarm.Kubernetes;

namespace Kwarm.Tests.Kubernetes;

/// <summary>The container's memory limit, read from a directory laid out like <c>/sys/fs/cgroup</c> under v2 or v1.</summary>
public sealed class CgroupMemoryLimitTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("kwarm-cgroup-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Cgroup_v2_limit_is_read_in_bytes()
    {
        WriteV2("268435456\n");

        Assert.Equal(256L * 1024 * 1024, CgroupMemoryLimit.Read(_root.FullName));
    }

    [Fact]
    public void Cgroup_v2_max_is_no_limit()
    {
        WriteV2("max\n");

        Assert.Null(CgroupMemoryLimit.Read(_root.FullName));
    }

    [Fact]
    public void Cgroup_v1_limit_is_read_when_there_is_no_v2_file()
    {
        WriteV1("536870912\n");

        Assert.Equal(512L * 1024 * 1024, CgroupMemoryLimit.Read(_root.FullName));
    }

    [Theory]
    [InlineData("9223372036854771712")] // 4 KiB pages
    [InlineData("9223372036854710272")] // 64 KiB pages
    public void Cgroup_v1_unlimited_sentinel_is_no_limit(string sentinel)
    {
        WriteV1(sentinel + "\n");

        Assert.Null(CgroupMemoryLimit.Read(_root.FullName));
    }

    [Fact]
    public void Cgroup_v2_wins_over_a_v1_file()
    {
        WriteV2("max\n");
        WriteV1("536870912\n");

        Assert.Null(CgroupMemoryLimit.Read(_root.FullName));
    }

    [Fact]
    public void No_files_is_no_limit()
    {
        Assert.Null(CgroupMemoryLimit.Read(_root.FullName));
        Assert.Null(CgroupMemoryLimit.Read(Path.Combine(_root.FullName, "does-not-exist")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("-1")]
    [InlineData("0")]
    public void Content_that_is_not_a_limit_is_no_limit(string content)
    {
        WriteV2(content);

        Assert.Null(CgroupMemoryLimit.Read(_root.FullName));
    }

    private void WriteV2(string content) => File.WriteAllText(Path.Combine(_root.FullName, "memory.max"), content);

    private void WriteV1(string content)
    {
        var memory = Directory.CreateDirectory(Path.Combine(_root.FullName, "memory"));
        File.WriteAllText(Path.Combine(memory.FullName, "memory.limit_in_bytes"), content);
    }
}
