using System.Globalization;
using System.Net;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Kwarm.Runtime;

/// <summary>
/// Resilience for API writes (create, patch, delete), built on a Polly v8 <see cref="ResiliencePipeline"/>.
/// <para>
/// Retried, with exponential backoff and jitter and a bounded number of attempts: <c>429 Too Many Requests</c>
/// (waiting for the server's <c>Retry-After</c>, or the Status's <c>retryAfterSeconds</c>, when it gives one),
/// <c>5xx</c> answers, attempts that time out, and connection failures. Anything else surfaces at once.
/// </para>
/// <para>
/// <c>409 Conflict</c> is never retried: it surfaces as <see cref="ApiConflictException"/>. Let it escape the
/// reconcile; the <see cref="ReconcileRunner{TKey}"/> requeues the key with backoff, and the next reconcile
/// re-reads the object from the cache or the API and decides again. Other 4xx answers (for example 422 from a
/// JSON Patch whose <c>test</c> failed) surface as the client's <see cref="HttpOperationException"/>.
/// </para>
/// Usage, inside a reconcile:
/// <code>
/// await writes.ExecuteAsync(
///     token => client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: token),
///     cancellationToken);
/// </code>
/// Only wrap idempotent writes or writes whose retry is harmless: a create retried after a timeout may come
/// back as <c>409 AlreadyExists</c>, which the caller then treats as "already done".
/// </summary>
public sealed class ApiWritePipeline
{
    private readonly ILogger _logger;

    public ApiWritePipeline(ApiWriteOptions options, TimeProvider timeProvider, ILogger<ApiWritePipeline> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _logger = logger;
        Pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpOperationException>(IsTransient)
                    .Handle<TimeoutRejectedException>()
                    .Handle<HttpRequestException>(),
                DelayGenerator = arguments =>
                    ValueTask.FromResult(arguments.Outcome.Exception is HttpOperationException exception && RetryAfter(exception) is { } wait
                        ? (TimeSpan?)(wait > options.MaxRetryAfter ? options.MaxRetryAfter : wait)
                        : null),
                OnRetry = arguments =>
                {
                    // Only transient failures are retried: one line with the status and the wait, no stack trace.
                    var failure = arguments.Outcome.Exception;
                    _logger.WriteRetry(
                        failure is null || ApiErrors.IsTransient(failure) ? null : failure,
                        failure is null ? "no answer" : ApiErrors.Describe(failure),
                        arguments.AttemptNumber + 1,
                        arguments.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
    }

    /// <summary>The underlying pipeline (retry outside, per-attempt timeout inside).</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <exception cref="ApiConflictException">The server answered 409.</exception>
    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            return await Pipeline.ExecuteAsync(
                static async (state, token) => await state(token).ConfigureAwait(false), write, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException exception) when (ApiErrors.IsConflict(exception))
        {
            throw ApiConflictException.From(exception);
        }
    }

    /// <exception cref="ApiConflictException">The server answered 409.</exception>
    public Task ExecuteAsync(Func<CancellationToken, Task> write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(write);
        return ExecuteAsync(
            async token =>
            {
                await write(token).ConfigureAwait(false);
                return true;
            },
            cancellationToken);
    }

    private static bool IsTransient(HttpOperationException exception)
    {
        var status = (int?)ApiErrors.StatusCodeOf(exception);
        return status is 429 || (status >= 500 && status != (int)HttpStatusCode.NotImplemented);
    }

    /// <summary>The wait a 429 asks for: the Retry-After header, else the Status's details.retryAfterSeconds.</summary>
    internal static TimeSpan? RetryAfter(HttpOperationException exception)
    {
        if (ApiErrors.StatusCodeOf(exception) != HttpStatusCode.TooManyRequests)
        {
            return null;
        }

        if (exception.Response?.Headers is { } headers &&
            headers.FirstOrDefault(header => string.Equals(header.Key, "Retry-After", StringComparison.OrdinalIgnoreCase)).Value is { } values &&
            values.FirstOrDefault() is { } value &&
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return ApiErrors.StatusOf(exception)?.Details?.RetryAfterSeconds is { } retryAfterSeconds and > 0
            ? TimeSpan.FromSeconds(retryAfterSeconds)
            : null;
    }
}
