using System.Globalization;
using k8s.Models;
using Kwarm.Kubernetes;
using Kwarm.Observability;
using Kwarm.Pulling;
using Kwarm.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Kwarm.Tests.Pulling;

/// <summary>How the fake kubelet treats one image reference.</summary>
/// <param name="PullTime">How long a pull takes.</param>
/// <param name="SecretRequired">A private image: the pod must name this secret, else the kubelet answers 401.</param>
/// <param name="EntrypointExitCode">What the image's own entrypoint would exit with, if it ever ran.</param>
/// <param name="HasShell">Without a shell, any command but the installed noop fails to start.</param>
/// <param name="Hang">The registry never answers: the pull never ends.</param>
/// <param name="Missing">The reference does not exist.</param>
internal sealed record FakeImage(
    TimeSpan PullTime,
    string? SecretRequired = null,
    int EntrypointExitCode = 0,
    bool HasShell = true,
    bool Hang = false,
    bool Missing = false);

/// <summary>
/// A hand-written stand-in for the API server, the Job controller and the kubelets, driving a <see cref="PullTerm"/>
/// deterministically on a <see cref="FakeTimeProvider"/>: its writes land in the caches (at once, or only at
/// <see cref="RevealJobs"/> when <see cref="HideNewJobs"/> is set, like a slow watch), its events reach the term's
/// event mapping, and a tiny pair of work queues (a set of PrePullImage keys, a pending scheduling pass, and timers) runs
/// the reconciles and scheduling passes one at a time, a due pass first.
/// </summary>
internal sealed class FakePullCluster : IPullApi
{
    public const string UnauthorizedMessage =
        "rpc error: code = Unknown desc = failed to pull and unpack image: pulling from host registry.local failed with status code [manifests 1]: 401 Unauthorized";

    private readonly Dictionary<string, V1Job> _serverJobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PrePullImage> _serverImages = new(StringComparer.Ordinal);
    private readonly List<V1Job> _hidden = [];
    private readonly HashSet<string> _queue = new(StringComparer.Ordinal);
    private readonly List<(DateTimeOffset Due, string? Key)> _timers = [];
    private bool _passDue;
    private readonly bool _readYourWrites;
    private int _version = 100;
    private int _uid;

    public FakePullCluster(int maxConcurrentPulls = 10, int maxPullsPerNode = 2, TimeSpan? finishedTtl = null, KwarmMetrics? metrics = null, bool readYourWrites = true)
    {
        _readYourWrites = readYourWrites;
        Options = new PullEngineOptions(maxConcurrentPulls, maxPullsPerNode, "tools.local/kwarm:1", finishedTtl ?? TimeSpan.FromHours(1));
        Metrics = metrics;
        Engine = NewEngine();
    }

    public FakeTimeProvider Time { get; } = new(PullTestObjects.Epoch);

    public PullEngineOptions Options { get; }

    public KwarmMetrics? Metrics { get; }

    public PullTerm Engine { get; private set; }

    public ResourceCache<PrePullImage> Images { get; } = new();

    public ResourceCache<V1Node> Nodes { get; } = new();

    public ResourceCache<V1Job> Jobs { get; } = new();

    public ResourceCache<V1Pod> Pods { get; } = new();

    /// <summary>The owners of hold PrePullImages, as the hold controller leaves them (annotations only matter).</summary>
    public ResourceCache<V1Deployment> Deployments { get; } = new();

    public Dictionary<string, FakeImage> Registry { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, status writes reach the cache only at <see cref="RevealImages"/> (a lagging PrePullImage watch).</summary>
    public bool HideStatusWrites { get; set; }

    /// <summary>When set, created Jobs reach the cache only at <see cref="RevealJobs"/>.</summary>
    public bool HideNewJobs { get; set; }

    public int StatusWrites { get; private set; }

    /// <summary>Status writes refused with 409 (a resourceVersion older than the server's).</summary>
    public int Conflicts { get; private set; }

    /// <summary>PrePullImage reconciles run.</summary>
    public int Reconciles { get; private set; }

    /// <summary>
    /// How long a key refused with 409 waits before it is reconciled again (the work queue's rate limiter); by default
    /// at once. With a lagging watch and no read-your-writes, at once would spin until the watch catches up.
    /// </summary>
    public TimeSpan? ConflictRetryDelay { get; set; }

    /// <summary>While set, every Job create is refused (like a 403 from RBAC or a quota), and counted.</summary>
    public bool RefuseCreates { get; set; }

    public int RefusedCreates { get; private set; }

    /// <summary>Every Job created: (PrePullImage name, node, attempt, when).</summary>
    public List<(string Image, string Node, int Attempt, DateTime At)> Created { get; } = [];

    public int MaxActive { get; private set; }

    public int MaxActivePerNode { get; private set; }

    /// <summary>Everything the fake kubelet refused to run, which a correct pull pod never triggers.</summary>
    public List<string> KubeletComplaints { get; } = [];

    /// <summary>A new leader: a fresh engine over the same caches; the old one is simply abandoned.</summary>
    public void Restart()
    {
        Engine = NewEngine();
        _queue.Clear();
        _passDue = false;
        _timers.Clear();
        foreach (var image in Images.List())
        {
            Engine.Events.OnImage(new ResourceEvent<PrePullImage>(ResourceEventType.Added, image));
        }
    }

    public void AddNode(V1Node node)
    {
        Nodes.Upsert(node);
        Engine.Events.OnNode(new ResourceEvent<V1Node>(ResourceEventType.Added, node));
    }

    public void UpdateNode(V1Node node)
    {
        var previous = Nodes.Upsert(node);
        Engine.Events.OnNode(new ResourceEvent<V1Node>(previous is null ? ResourceEventType.Added : ResourceEventType.Updated, node, previous));
    }

    public PrePullImage AddImage(PrePullImage image)
    {
        var stored = image with { Metadata = Clone(image.Metadata) };
        stored.Metadata.ResourceVersion = NextVersion();
        _serverImages[ResourceKeys.For(stored)] = stored;
        Images.Upsert(stored);
        Engine.Events.OnImage(new ResourceEvent<PrePullImage>(ResourceEventType.Added, stored));
        return stored;
    }

    public PrePullImage Image(string ns, string name) => Images.Get(ns, name) ?? throw new InvalidOperationException($"no PrePullImage {ns}/{name}");

    /// <summary>Deletes a PrePullImage as a user would, without running the garbage collector.</summary>
    public void RemoveImageWithoutGarbageCollection(string ns, string name)
    {
        var key = ResourceKeys.For(ns, name);
        _serverImages.Remove(key);
        if (Images.Remove(key) is { } removed)
        {
            Engine.Events.OnImage(new ResourceEvent<PrePullImage>(ResourceEventType.Deleted, removed));
        }
    }

    public void RevealJobs()
    {
        foreach (var job in _hidden.Where(job => _serverJobs.ContainsKey(ResourceKeys.For(job))).ToList())
        {
            Jobs.Upsert(job);
            Engine.Events.OnJob(new ResourceEvent<V1Job>(ResourceEventType.Added, job));
        }

        _hidden.Clear();
    }

    public void RevealImages()
    {
        foreach (var image in _serverImages.Values)
        {
            var previous = Images.Get(ResourceKeys.For(image));
            if (previous?.Metadata.ResourceVersion != image.Metadata.ResourceVersion)
            {
                Images.Upsert(image);
                Engine.Events.OnImage(new ResourceEvent<PrePullImage>(ResourceEventType.Updated, image, previous));
            }
        }
    }

    /// <summary>Runs reconciles and the kubelets until nothing moves at the current time.</summary>
    public async Task SettleAsync()
    {
        for (var round = 0; round < 100_000; round++)
        {
            FireTimers();
            if (_passDue)
            {
                _passDue = false;
                await Engine.Scheduling.RunPassAsync(PullSchedulingPass.Due, CancellationToken.None);
                continue;
            }

            if (_queue.Count > 0)
            {
                var key = _queue.Order(StringComparer.Ordinal).First();
                _queue.Remove(key);
                try
                {
                    Reconciles++;
                    var result = await Engine.Reconciler.ReconcileAsync(key, CancellationToken.None);
                    if (result.RequeueAfter is { } delay)
                    {
                        _timers.Add((Time.GetUtcNow() + delay, key));
                    }
                }
                catch (ApiConflictException)
                {
                    if (ConflictRetryDelay is { } retry)
                    {
                        _timers.Add((Time.GetUtcNow() + retry, key));
                    }
                    else
                    {
                        _queue.Add(key);
                    }
                }

                continue;
            }

            if (!RunKubelets())
            {
                return;
            }
        }

        throw new InvalidOperationException("the fake cluster never settled");
    }

    /// <summary>Moves time forward in steps, settling after each.</summary>
    public async Task AdvanceAsync(TimeSpan total, TimeSpan step)
    {
        var end = Time.GetUtcNow() + total;
        await SettleAsync();
        while (Time.GetUtcNow() < end)
        {
            var next = Time.GetUtcNow() + step;
            Time.SetUtcNow(next < end ? next : end);
            await SettleAsync();
        }
    }

    public async Task RunUntilAsync(Func<bool> done, TimeSpan step, TimeSpan limit)
    {
        var end = Time.GetUtcNow() + limit;
        await SettleAsync();
        while (!done())
        {
            Assert.True(Time.GetUtcNow() < end, "the condition was not reached in time");
            Time.Advance(step);
            await SettleAsync();
        }
    }

    // ---- IPullApi ---------------------------------------------------------------------------------------

    public Task<V1Job> CreateJobAsync(V1Job job, CancellationToken cancellationToken)
    {
        var key = ResourceKeys.For(job);
        if (RefuseCreates)
        {
            RefusedCreates++;
            throw new InvalidOperationException($"jobs.batch is forbidden: cannot create resource \"jobs\" in namespace \"{job.Metadata.NamespaceProperty}\"");
        }

        if (_serverJobs.ContainsKey(key))
        {
            throw new ApiConflictException(job.Metadata.Name, "AlreadyExists", $"jobs.batch \"{job.Metadata.Name}\" already exists", null);
        }

        var created = Copy(job);
        created.Metadata.Uid = "job-" + (++_uid).ToString(CultureInfo.InvariantCulture);
        created.Metadata.ResourceVersion = NextVersion();
        created.Metadata.CreationTimestamp = Time.GetUtcNow().UtcDateTime;
        created.Status = new V1JobStatus { Active = 1, StartTime = created.Metadata.CreationTimestamp };
        _serverJobs[key] = created;
        Created.Add((created.Metadata.Annotations[PullObjectNames.PrePullImageAnnotation], created.Metadata.Annotations[PullObjectNames.NodeAnnotation],
            int.Parse(created.Metadata.Annotations[PullObjectNames.AttemptAnnotation], CultureInfo.InvariantCulture), Time.GetUtcNow().UtcDateTime));
        MeasureConcurrency();
        if (HideNewJobs)
        {
            _hidden.Add(created);
        }
        else
        {
            Jobs.Upsert(created);
            Engine.Events.OnJob(new ResourceEvent<V1Job>(ResourceEventType.Added, created));
        }

        return Task.FromResult(Copy(created));
    }

    public Task DeleteJobAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        var key = ResourceKeys.For(namespaceName, name);
        if (!_serverJobs.ContainsKey(key))
        {
            // The API server would answer 404: a delete the engine could have known was pointless.
            DeletesOfMissingJobs++;
        }

        DeleteJob(key);
        return Task.CompletedTask;
    }

    /// <summary>Deletes of Jobs that no longer existed (each a 404 from a real API server).</summary>
    public int DeletesOfMissingJobs { get; private set; }

    /// <summary>Runs at the start of every status write, before it is stored: a test's way to land watch events mid-write.</summary>
    public Action<PrePullImage>? DuringStatusWrite { get; set; }

    /// <summary>Someone other than Kwarm deletes a Job (a person, a TTL controller); the watch reports it.</summary>
    public void DeleteJobElsewhere(string key) => DeleteJob(key);

    public Task<PrePullImage> ReplaceStatusAsync(PrePullImage image, CancellationToken cancellationToken)
    {
        DuringStatusWrite?.Invoke(image);
        var key = ResourceKeys.For(image);
        if (!_serverImages.TryGetValue(key, out var current) || current.Metadata.ResourceVersion != image.Metadata.ResourceVersion)
        {
            Conflicts++;
            throw new ApiConflictException(image.Metadata.Name, "Conflict", "the object has been modified", null);
        }

        // Through JSON, like the API server: what is read back is what was serialized.
        var stored = k8s.KubernetesJson.Deserialize<PrePullImage>(k8s.KubernetesJson.Serialize(current with { Status = image.Status }));
        stored.Metadata.ResourceVersion = NextVersion();
        _serverImages[key] = stored;
        StatusWrites++;
        if (!HideStatusWrites)
        {
            var previous = Images.Upsert(stored);
            Engine.Events.OnImage(new ResourceEvent<PrePullImage>(ResourceEventType.Updated, stored, previous));
        }

        return Task.FromResult(stored);
    }

    public Task DeletePrePullImageAsync(string namespaceName, string name, string uid, CancellationToken cancellationToken)
    {
        var key = ResourceKeys.For(namespaceName, name);
        if (_serverImages.TryGetValue(key, out var image) && image.Metadata.Uid == uid)
        {
            RemoveImageWithoutGarbageCollection(namespaceName, name);
            foreach (var job in _serverJobs.Values.Where(job => job.Metadata.OwnerReferences.Any(owner => owner.Uid == uid)).ToList())
            {
                DeleteJob(ResourceKeys.For(job));
            }
        }

        return Task.CompletedTask;
    }

    // ---- the kubelets and the Job controller ------------------------------------------------------------

    private bool RunKubelets()
    {
        var changed = false;
        var now = Time.GetUtcNow().UtcDateTime;
        foreach (var job in _serverJobs.Values.ToList())
        {
            if (Finished(job))
            {
                continue;
            }

            var podKey = ResourceKeys.For(job.Metadata.NamespaceProperty, job.Metadata.Name + "-pod");
            var pod = Pods.Get(podKey);
            if (pod is null)
            {
                pod = NewPod(job, now);
                changed |= Publish(pod, null);
                continue;
            }

            var node = Nodes.Get(pod.Spec.NodeName);
            var spec = job.Spec.Template.Spec;
            var reference = spec.Containers[0].Image;
            var image = Registry.GetValueOrDefault(reference) ?? new FakeImage(TimeSpan.FromSeconds(5));
            var pull = pod.Status.ContainerStatuses[0];
            if (job.Spec.ActiveDeadlineSeconds is { } deadline && now - job.Metadata.CreationTimestamp!.Value >= TimeSpan.FromSeconds(deadline))
            {
                changed |= FinishJob(job, new V1JobCondition { Type = "Failed", Status = "True", Reason = "DeadlineExceeded", Message = "Job was active longer than specified deadline" });
                continue;
            }

            if (!string.IsNullOrEmpty(pull.ImageID))
            {
                continue;
            }

            V1ContainerState? state = null;
            var imageId = "";
            if (image.Missing)
            {
                state = Waiting("ErrImagePull", $"rpc error: code = NotFound desc = failed to pull and unpack image \"{reference}\": not found");
            }
            else if (image.SecretRequired is { } secret && spec.ImagePullSecrets?.Any(s => s.Name == secret) != true)
            {
                state = Waiting(pull.State.Waiting?.Reason == "ErrImagePull" ? "ImagePullBackOff" : "ErrImagePull", UnauthorizedMessage);
            }
            else if (!image.Hang && now - pod.Metadata.CreationTimestamp!.Value >= image.PullTime)
            {
                imageId = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(reference)));
                state = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = ExitCode(spec, image), StartedAt = now, FinishedAt = now } };
                if (node is not null && !NodeEligibility.HasImage(node, reference))
                {
                    var updatedNode = Copy(node);
                    updatedNode.Status.Images = [.. updatedNode.Status.Images ?? [], new V1ContainerImage { Names = [reference] }];
                    updatedNode.Metadata.ResourceVersion = NextVersion();
                    UpdateNode(updatedNode);
                }
            }

            if (state is not null && k8s.KubernetesJson.Serialize(state) != k8s.KubernetesJson.Serialize(pull.State))
            {
                var updated = Copy(pod);
                updated.Status.ContainerStatuses[0].State = state;
                updated.Status.ContainerStatuses[0].ImageID = imageId;
                changed |= Publish(updated, pod);
                if (state.Terminated is not null)
                {
                    FinishJob(job, new V1JobCondition { Type = state.Terminated.ExitCode == 0 ? "Complete" : "Failed", Status = "True", Reason = state.Terminated.ExitCode == 0 ? null : "BackoffLimitExceeded" });
                }
            }
        }

        return changed;
    }

    /// <summary>
    /// The pull container's command must be the helper the init container installed into the shared volume;
    /// anything else runs the image's own programs (and fails without a shell).
    /// </summary>
    private int ExitCode(V1PodSpec spec, FakeImage image)
    {
        var init = spec.InitContainers?.SingleOrDefault();
        var pull = spec.Containers[0];
        var installedAt = init is { Command.Count: 3 } && init.Command[1] == "install" ? init.Command[2] : null;
        var installMount = init?.VolumeMounts?.FirstOrDefault(mount => installedAt?.StartsWith(mount.MountPath + "/", StringComparison.Ordinal) == true);
        var pullMount = pull.VolumeMounts?.FirstOrDefault(mount => mount.Name == installMount?.Name);
        var helper = installMount is null || pullMount is null ? null : pullMount.MountPath + installedAt![installMount.MountPath.Length..];
        if (pull.Command is [var command] && command == helper && init!.Command[0] == PullJobTemplate.ToolsNoopPath)
        {
            return 0;
        }

        KubeletComplaints.Add($"pull container ran {string.Join(' ', pull.Command ?? [])} instead of the installed helper {helper}");
        return image.HasShell ? image.EntrypointExitCode : 128;
    }

    private V1Pod NewPod(V1Job job, DateTime now)
    {
        var template = job.Spec.Template;
        var node = template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0];
        return new V1Pod
        {
            Metadata = new V1ObjectMeta
            {
                Name = job.Metadata.Name + "-pod",
                NamespaceProperty = job.Metadata.NamespaceProperty,
                Uid = "pod-" + (++_uid).ToString(CultureInfo.InvariantCulture),
                CreationTimestamp = now,
                Labels = template.Metadata.Labels,
                Annotations = template.Metadata.Annotations,
                OwnerReferences = [new V1OwnerReference { Kind = "Job", Name = job.Metadata.Name, Uid = job.Metadata.Uid, Controller = true }],
            },
            Spec = new V1PodSpec { NodeName = node, Containers = template.Spec.Containers, InitContainers = template.Spec.InitContainers, ImagePullSecrets = template.Spec.ImagePullSecrets },
            Status = new V1PodStatus
            {
                Phase = "Pending",
                ContainerStatuses = [new V1ContainerStatus { Name = PullJobTemplate.PullContainer, Image = template.Spec.Containers[0].Image, ImageID = "", State = Waiting("ContainerCreating", null) }],
            },
        };
    }

    private bool Publish(V1Pod pod, V1Pod? previous)
    {
        pod.Metadata.ResourceVersion = NextVersion();
        Pods.Upsert(pod);
        Engine.Events.OnPod(new ResourceEvent<V1Pod>(previous is null ? ResourceEventType.Added : ResourceEventType.Updated, pod, previous));
        return true;
    }

    private bool FinishJob(V1Job job, V1JobCondition condition)
    {
        var key = ResourceKeys.For(job);
        var finished = Copy(job);
        finished.Metadata.ResourceVersion = NextVersion();
        finished.Status = new V1JobStatus { Active = 0, Conditions = [condition], StartTime = job.Status?.StartTime, CompletionTime = Time.GetUtcNow().UtcDateTime };
        _serverJobs[key] = finished;
        if (Jobs.Get(key) is { } cached)
        {
            Jobs.Upsert(finished);
            Engine.Events.OnJob(new ResourceEvent<V1Job>(ResourceEventType.Updated, finished, cached));
        }
        else
        {
            var hidden = _hidden.FindIndex(other => ResourceKeys.For(other) == key);
            if (hidden >= 0)
            {
                _hidden[hidden] = finished;
            }
        }

        return true;
    }

    private void DeleteJob(string key)
    {
        if (!_serverJobs.Remove(key, out var job))
        {
            return;
        }

        foreach (var pod in Pods.ListByOwner(job.Metadata.Uid))
        {
            Pods.Remove(ResourceKeys.For(pod));
            Engine.Events.OnPod(new ResourceEvent<V1Pod>(ResourceEventType.Deleted, pod));
        }

        if (Jobs.Remove(key) is { } removed)
        {
            Engine.Events.OnJob(new ResourceEvent<V1Job>(ResourceEventType.Deleted, removed));
        }
    }

    private void MeasureConcurrency()
    {
        var active = _serverJobs.Values.Where(job => !Finished(job)).ToList();
        MaxActive = Math.Max(MaxActive, active.Count);
        var perNode = active.GroupBy(job => job.Metadata.Annotations[PullObjectNames.NodeAnnotation]).Select(group => group.Count()).DefaultIfEmpty(0).Max();
        MaxActivePerNode = Math.Max(MaxActivePerNode, perNode);
    }

    private void FireTimers()
    {
        var now = Time.GetUtcNow();
        foreach (var timer in _timers.Where(timer => timer.Due <= now).ToList())
        {
            _timers.Remove(timer);
            if (timer.Key is null)
            {
                _passDue = true;
            }
            else
            {
                _queue.Add(timer.Key);
            }
        }
    }

    private PullTerm NewEngine()
    {
        var term = new PullTerm(Images, Nodes, Jobs, Pods, this, Options, Metrics, Time, NullLogger.Instance, Deployments, new KnownPullStatuses(Images, _readYourWrites));
        term.AttachImageQueue(key => _queue.Add(key));
        term.Trigger.Attach(delay =>
        {
            if (delay > TimeSpan.Zero)
            {
                _timers.Add((Time.GetUtcNow() + delay, null));
            }
            else
            {
                _passDue = true;
            }
        });
        return term;
    }

    private static bool Finished(V1Job job) => job.Status?.Conditions?.Any(condition => condition.Status == "True") == true;

    private static V1ContainerState Waiting(string reason, string? message) => new() { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } };

    private string NextVersion() => (++_version).ToString(CultureInfo.InvariantCulture);

    private static T Copy<T>(T value) => k8s.KubernetesJson.Deserialize<T>(k8s.KubernetesJson.Serialize(value));

    private static V1ObjectMeta Clone(V1ObjectMeta metadata) => Copy(metadata);
}
