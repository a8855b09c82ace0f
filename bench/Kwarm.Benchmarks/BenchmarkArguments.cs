using System.Globalization;
using Kwarm.Local;

namespace Kwarm.Benchmarks;

/// <summary>
/// The one command-line parser of the benchmarks: <c>--help</c>, <c>--flag value</c> pairs folded into an options
/// record, a bad value or an unknown flag reported with the command's usage (exit 1), and the value checks they share.
/// </summary>
internal static class BenchmarkArguments
{
    /// <summary>Prints <paramref name="usage"/> for <c>-h</c>/<c>--help</c> (exit 0) or after a parse error (exit 1); otherwise runs.</summary>
    public static async Task<int> RunAsync<TOptions>(
        IReadOnlyList<string> args, string usage, Func<IReadOnlyList<string>, TOptions> parse, Func<TOptions, Task<int>> run, TextWriter output)
    {
        if (args.Any(argument => argument is "-h" or "--help"))
        {
            await output.WriteLineAsync(usage).ConfigureAwait(false);
            return 0;
        }

        TOptions options;
        try
        {
            options = parse(args);
        }
        catch (FormatException exception)
        {
            await output.WriteLineAsync($"error: {exception.Message}\n\n{usage}").ConfigureAwait(false);
            return 1;
        }

        return await run(options).ConfigureAwait(false);
    }

    /// <summary>
    /// Folds every flag into <paramref name="options"/>: <paramref name="apply"/> gets the flag, a function that takes its
    /// value (the next argument), and the options so far, and returns them updated, or null for a flag it does not know.
    /// </summary>
    public static TOptions Fold<TOptions>(IReadOnlyList<string> args, TOptions options, Func<string, Func<string>, TOptions, TOptions?> apply)
        where TOptions : class
    {
        for (var index = 0; index < args.Count; index++)
        {
            var flag = args[index];
            string Value() => index + 1 < args.Count ? args[++index] : throw new FormatException($"{flag} needs a value");
            options = apply(flag, Value, options) ?? throw new FormatException($"unknown option {flag}");
        }

        return options;
    }

    public static int Positive(string value, string name, bool allowZero = false) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && (number > 0 || (allowZero && number == 0))
            ? number
            : throw new FormatException($"{name} must be a {(allowZero ? "non-negative" : "positive")} whole number, got '{value}'");

    public static long PositiveLong(string value, string name) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw new FormatException($"{name} must be a positive whole number, got '{value}'");

    public static int Whole(string value, string name, int minimum, int maximum) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum && number <= maximum
            ? number
            : throw new FormatException($"{name} must be a whole number from {minimum} to {maximum}, got '{value}'");

    /// <summary>The simulator's time factor: above 0, at most 1.</summary>
    public static double TimeFactor(string value) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var factor) && factor is > 0 and <= 1
            ? factor
            : throw new FormatException($"--time-factor must be a number in (0, 1], got '{value}'");

    /// <summary>A native Kwarm binary named by a flag; a missing file is a bad value, reported with the usage.</summary>
    public static KwarmCommand NativeKwarm(string path)
    {
        try
        {
            return KwarmCommand.Native(path);
        }
        catch (FileNotFoundException missing)
        {
            throw new FormatException(missing.Message, missing);
        }
    }

    /// <summary>The checkout the benchmark runs in (the directory holding <c>Kwarm.sln</c>), for default report and fixture paths.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Kwarm.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        return Environment.CurrentDirectory;
    }
}
