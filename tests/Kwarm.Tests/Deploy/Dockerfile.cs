namespace Kwarm.Tests.Deploy;

/// <summary>One instruction of the Dockerfile, with continuation lines joined.</summary>
internal sealed record DockerInstruction(string Keyword, string Arguments);

/// <summary>One build stage: its <c>FROM</c> line and the instructions under it.</summary>
internal sealed record DockerStage(string From, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<string> All(string keyword) =>
        Instructions.Where(instruction => instruction.Keyword == keyword).Select(instruction => instruction.Arguments);
}

/// <summary>The repository's Dockerfile, read into stages (enough of the syntax for this file, no more).</summary>
internal static class Dockerfile
{
    public static IReadOnlyList<DockerStage> Stages(string path)
    {
        var instructions = Instructions(File.ReadAllLines(path));
        var stages = new List<DockerStage>();
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM")
            {
                var words = instruction.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var name = words.Length >= 2 && words[^2].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[^1] : null;
                stages.Add(new DockerStage(instruction.Arguments, name, []));
            }
            else if (stages.Count == 0)
            {
                if (instruction.Keyword != "ARG")
                {
                    throw new InvalidDataException($"{instruction.Keyword} before the first FROM in {path}");
                }
            }
            else
            {
                var last = stages[^1];
                stages[^1] = last with { Instructions = [.. last.Instructions, instruction] };
            }
        }

        return stages;
    }

    private static List<DockerInstruction> Instructions(IEnumerable<string> lines)
    {
        var result = new List<DockerInstruction>();
        var pending = "";
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1].Trim() + " ";
                continue;
            }

            var full = (pending + line).Trim();
            pending = "";
            var space = full.IndexOf(' ', StringComparison.Ordinal);
            result.Add(new DockerInstruction(full[..space].ToUpperInvariant(), full[(space + 1)..].Trim()));
        }

        return result;
    }
}
