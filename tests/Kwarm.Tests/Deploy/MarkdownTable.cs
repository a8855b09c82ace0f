namespace Kwarm.Tests.Deploy;

/// <summary>The rows of the first Markdown table under a heading, as cells with their backticks removed.</summary>
internal static class MarkdownTable
{
    public static IReadOnlyList<IReadOnlyList<string>> Under(string markdownPath, string heading)
    {
        var lines = File.ReadAllLines(markdownPath);
        var start = Array.FindIndex(lines, line => line.Trim() == heading);
        if (start < 0)
        {
            throw new Xunit.Sdk.XunitException($"{markdownPath} has no heading \"{heading}\"");
        }

        var rows = new List<IReadOnlyList<string>>();
        var inTable = false;
        for (var index = start + 1; index < lines.Length && !lines[index].StartsWith('#'); index++)
        {
            var line = lines[index].Trim();
            if (!line.StartsWith('|'))
            {
                if (inTable)
                {
                    break;
                }

                continue;
            }

            inTable = true;
            var cells = line.Trim('|').Split('|').Select(cell => cell.Trim()).ToList();
            if (cells.All(cell => cell.Trim('-', ':').Length == 0))
            {
                continue;
            }

            rows.Add(cells.Select(cell => cell.Trim('`')).ToList());
        }

        // The first row is the header.
        return rows.Skip(1).ToList();
    }
}
