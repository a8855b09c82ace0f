using System.Diagnostics.Metrics;
using k8s.Models;
using Kwarm.Holds;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Resources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Holds;

/// <summary>
/// A hand-made cluster for the hold controller: the informers' caches, a <see cref="FakeHoldApi"/> that applies
/// writes to them (as an API server and an up-to-date watch would), a fake clock and the real metrics.
/// </summary>
internal sealed partial class HoldWorld : IDisposable
{
    public const string Namespace = "shop";

    private readonly ServiceProvider _services;
    private readonly MeterListener _listener;
    private readonly List<(double Seconds, string Reason)> _holdDurations = [];

    public HoldWorld()
    {
        Api = new FakeHoldApi(this);
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var meters = _services.GetRequiredService<IMeterFactory>();
        Metrics = new KwarmMetrics(meters);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                // Only this world's meter: a listener sees every meter in the process, the worlds of tests running in
                // parallel included.
                if (instrument.Meter.Name == KwarmMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters)
                    && instrument.Name == "kwarm_hold_duration_seconds")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            var reason = "";
            foreach (var tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string ?? "";
                }
            }

            lock (_holdDurations)
            {
                _holdDurations.Add((value, reason));
            }
        });
        _listener.Start();
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    public ResourceCache<V1Deployment> Deployments { get; } = new();

    public ResourceCache<V1StatefulSet> StatefulSets { get; } = new();

    public ResourceCache<V1DaemonSet> DaemonSets { get; } = new();

    public ResourceCache<PrePullImage> PrePullImages { get; } = new();

    public ResourceCache<PrePullPolicy> Policies { get; } = new();

    public ResourceCache<V1ServiceAccount> ServiceAccounts { get; } = new();

    public FakeHoldApi Api { get; }

    public KwarmMetrics Metrics { get; }

    public IReadOnlyList<(double Seconds, string Reason)> HoldDurations
    {
        get
        {
            lock (_holdDurations)
            {
                return [.. _holdDurations];
            }
        }
    }

    /// <summary>A fresh reconciler, as after a restart or a failover: it knows only what the caches show.</summary>
    public HoldReconciler NewReconciler() =>
        new(new HoldControllerContext(Deployments, StatefulSets, DaemonSets, PrePullImages, Policies, ServiceAccounts, "kwarm-test"), Api, Metrics, Time, NullLogger<HoldReconciler>.Instance);

    public PrePullPolicy AddPolicy(string name, HoldSpec? hold = null, V1LabelSelector? nodeSelector = null, DateTime? created = null)
    {
        var policy = new PrePullPolicy
        {
            Metadata = new V1ObjectMeta { Name = name, Generation = 1, CreationTimestamp = created ?? Time.GetUtcNow().UtcDateTime.AddDays(-1) },
            Spec = new PrePullPolicySpec
            {
                Selector = new DeploymentSelector { MatchLabels = new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" } },
                Hold = hold,
                NodeSelector = nodeSelector,
            },
        };
        Policies.Upsert(policy);
        return policy;
    }

    /// <summary>A Deployment as the webhook leaves it after an image change: paused, with hold and policy annotations.</summary>
    public V1Deployment AddHeldDeployment(string name, string[] images, string policy = "default", bool paused = true, string[]? initImages = null)
    {
        var deployment = Deployment(name, images, initImages);
        deployment.Spec.Paused = paused;
        deployment.Metadata.Annotations = new Dictionary<string, string>
        {
            [KwarmApi.HoldAnnotation] = Kwarm.Workloads.HoldId.For([.. images, .. initImages ?? []]),
            [KwarmApi.PolicyAnnotation] = policy,
        };
        Upsert(deployment);
        return deployment;
    }

    public static V1Deployment Deployment(string name, string[] images, string[]? initImages = null) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = Namespace,
            Uid = "uid-" + name,
            ResourceVersion = "1",
            Labels = new Dictionary<string, string> { [KwarmApi.EnabledLabel] = "true" },
        },
        Spec = new V1DeploymentSpec
        {
            Replicas = 3,
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = name } },
            Template = new V1PodTemplateSpec
            {
                Spec = new V1PodSpec
                {
                    Containers = [.. images.Select((image, index) => new V1Container { Name = "c" + index, Image = image })],
                    InitContainers = initImages is null ? null : [.. initImages.Select((image, index) => new V1Container { Name = "i" + index, Image = image })],
                },
            },
        },
    };

    public V1Deployment Deployment(string name) => Deployments.Get(Namespace, name) ?? throw new InvalidOperationException(name + " is not in the cache");

    /// <summary>Changes a Deployment the way another writer would (a person, the webhook) and bumps its resourceVersion.</summary>
    public V1Deployment Change(string name, Action<V1Deployment> change)
    {
        var copy = FakeHoldApi.Copy(Deployment(name));
        change(copy);
        copy.Metadata.ResourceVersion = (int.Parse(copy.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Upsert(copy);
        return copy;
    }

    public void Upsert(V1Deployment deployment)
    {
        Deployments.Upsert(deployment);
        Api.ServerDeployments[ResourceKeys.For(deployment)] = FakeHoldApi.Copy(deployment);
    }

    public IReadOnlyList<PrePullImage> ImagesOf(string deployment) =>
        [.. PrePullImages.ListInNamespace(Namespace).Where(image => PrePullImagePlanner.BelongsTo(image, deployment)).OrderBy(image => image.Spec.Image, StringComparer.Ordinal)];

    /// <summary>What the pull engine writes: the phase, and for failures per-node entries with the kubelet's message.</summary>
    public void SetPhase(PrePullImage image, PrePullImagePhase phase, string? kubeletError = null)
    {
        var updated = image with
        {
            Status = new PrePullImageStatus
            {
                Phase = phase,
                Summary = new PullSummary { Total = 2, Completed = phase == PrePullImagePhase.Failed ? 1 : 2, Failed = phase == PrePullImagePhase.Failed ? 1 : 0 },
                Nodes = phase != PrePullImagePhase.Failed
                    ? null
                    : [new NodePullStatus { Node = "node-a", Status = NodePullState.Completed }, new NodePullStatus { Node = "node-b", Status = NodePullState.Failed, Error = kubeletError }],
            },
        };
        PrePullImages.Upsert(updated);
    }

    public void SetAllPhases(string deployment, PrePullImagePhase phase)
    {
        foreach (var image in ImagesOf(deployment))
        {
            SetPhase(image, phase);
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }
}
