using System.Globalization;
using System.Text;

namespace Kwarm.Hosting;

/// <summary>
/// The command line, read the way Go's <c>flag</c> package reads an operator's flags: <c>--name value</c>,
/// <c>--name=value</c>, a bare boolean flag meaning true, one or two dashes, the last repetition winning.
/// Values are kept raw here and checked with the environment's and configuration's by <see cref="KwarmOptionsValidator"/>.
/// </summary>
internal sealed record KwarmCommandLine(IReadOnlyDictionary<string, string> Values, bool HelpRequested, string? Error)
{
    public static KwarmCommandLine Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var index = 0; index < args.Count; index++)
        {
            var arg = args[index];
            if (arg is "--")
            {
                return index + 1 < args.Count ? Reject($"unexpected argument \"{args[index + 1]}\": Kwarm takes flags only (see --help)") : Accept(values);
            }

            if (!arg.StartsWith('-') || arg is "-")
            {
                return Reject($"unexpected argument \"{arg}\": Kwarm takes flags only (see --help)");
            }

            var body = arg.AsSpan(arg.StartsWith("--", StringComparison.Ordinal) ? 2 : 1);
            var equals = body.IndexOf('=');
            var name = (equals < 0 ? body : body[..equals]).ToString();
            if (name is "help" or "h")
            {
                return new KwarmCommandLine(values, HelpRequested: true, Error: null);
            }

            var flag = KwarmFlags.Find(name);
            if (flag is null)
            {
                return Reject($"unknown flag -{(arg.StartsWith("--", StringComparison.Ordinal) ? "-" : "")}{name} (see --help for the flags)");
            }

            if (equals >= 0)
            {
                values[flag.Property] = body[(equals + 1)..].ToString();
            }
            else if (flag.IsSwitch)
            {
                values[flag.Property] = "true";
            }
            else if (index + 1 < args.Count)
            {
                values[flag.Property] = args[++index];
            }
            else
            {
                return Reject($"flag --{flag.Name} needs a value: expected {flag.Expected}");
            }
        }

        return Accept(values);
    }

    public static string HelpText()
    {
        var defaults = new KwarmOptions();
        var text = new StringBuilder();
        text.AppendLine("Usage: kwarm [flags]");
        text.AppendLine();
        text.AppendLine("Kwarm holds a Deployment's rollout until its new images are on the nodes.");
        text.AppendLine("Every flag can also be set as the environment variable shown, or in appsettings.json under \"Kwarm\";");
        text.AppendLine("flags win over the environment, which wins over configuration.");
        text.AppendLine();
        text.AppendLine("Flags:");
        foreach (var flag in KwarmFlags.All)
        {
            var shownDefault = flag.Show(defaults);
            text.Append(CultureInfo.InvariantCulture, $"  --{flag.Name}")
                .AppendLine(flag.IsSwitch ? "" : " value")
                .AppendLine(CultureInfo.InvariantCulture, $"        {flag.Description}")
                .Append(CultureInfo.InvariantCulture, $"        expected {flag.Expected}")
                .Append(shownDefault.Length == 0 ? "" : $"; default {shownDefault}")
                .AppendLine(CultureInfo.InvariantCulture, $"; env {flag.EnvironmentVariable}");
        }

        text.AppendLine("  --help").AppendLine("        Print this help and exit.");
        text.AppendLine();
        text.AppendLine("Exit codes: 0 stopped cleanly, 1 a component could not start or failed, 2 a bad flag or setting.");
        return text.ToString();
    }

    private static KwarmCommandLine Accept(Dictionary<string, string> values) => new(values, HelpRequested: false, Error: null);

    private static KwarmCommandLine Reject(string error) =>
        new(new Dictionary<string, string>(StringComparer.Ordinal), HelpRequested: false, error);
}
