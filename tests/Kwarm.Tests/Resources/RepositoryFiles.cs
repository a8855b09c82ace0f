namespace Kwarm.Tests.Resources;

/// <summary>Files of the repository under test, found from the test binaries by walking up to <c>Kwarm.sln</c>.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    /// <summary>The API-server and admission answers recorded from a real kube-apiserver v1.24, in <c>tests/fixtures</c>.</summary>
    public static string RecordedFixtures => Path.Combine(Root, "tests", "fixtures");

    public static string CrdsDirectory => Path.Combine(Root, "deploy", "crds");

    public static string SamplesDirectory => Path.Combine(Root, "deploy", "samples");

    public static string PrePullPolicyCrd => Path.Combine(CrdsDirectory, "kwarm.io_prepullpolicies.yaml");

    public static string PrePullImageCrd => Path.Combine(CrdsDirectory, "kwarm.io_prepullimages.yaml");

    public static string Sample(string fileName) => Path.Combine(SamplesDirectory, fileName);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Kwarm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No directory above {AppContext.BaseDirectory} contains Kwarm.sln");
    }
}
