using Microsoft.Extensions.Options;

namespace Kwarm.Hosting;

/// <summary>
/// Every check of <see cref="KwarmOptions"/>: each raw setting must be well formed (its message quotes it as typed
/// and says where it came from), each bound value allowed, no unknown key under <c>Kwarm</c> (a typo would
/// otherwise be silently ignored), and no two listeners on one port.
/// </summary>
internal sealed class KwarmOptionsValidator(IConfiguration configuration, KwarmSettingSources sources) : IValidateOptions<KwarmOptions>
{
    public ValidateOptionsResult Validate(string? name, KwarmOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var section = configuration.GetSection(KwarmOptions.SectionName);

        foreach (var flag in KwarmFlags.All)
        {
            var raw = section[flag.Property];
            if (raw is not null && !flag.TryApply(raw, new KwarmOptions()))
            {
                failures.Add($"invalid --{flag.Name} \"{raw}\"{sources.Origin(flag)}: expected {flag.Expected}");
            }
            else if (!flag.IsAllowed(options, out var shown))
            {
                failures.Add($"invalid --{flag.Name} \"{shown}\": expected {flag.Expected}");
            }
        }

        foreach (var child in section.GetChildren())
        {
            if (KwarmFlags.FindByProperty(child.Key) is null)
            {
                failures.Add($"unknown setting {child.Path} in configuration (see --help for the settings)");
            }
        }

        if (failures.Count == 0)
        {
            AddPortConflicts(options, failures);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void AddPortConflicts(KwarmOptions options, List<string> failures)
    {
        var listeners = new (string Flag, string Value)[]
        {
            ("webhook-bind-address", options.WebhookBindAddress),
            ("metrics-bind-address", options.MetricsBindAddress),
            ("health-probe-bind-address", options.HealthProbeBindAddress),
        };

        for (var i = 0; i < listeners.Length; i++)
        {
            for (var j = i + 1; j < listeners.Length; j++)
            {
                // Port 0 asks the system for a fresh port each time, so it never collides.
                if (BindAddress.TryParse(listeners[i].Value, out var first) && BindAddress.TryParse(listeners[j].Value, out var second) &&
                    first.Port != 0 && first.Port == second.Port)
                {
                    failures.Add($"conflicting --{listeners[i].Flag} \"{listeners[i].Value}\" and --{listeners[j].Flag} \"{listeners[j].Value}\": expected a different port for each listener");
                }
            }
        }
    }
}
