using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Kwarm.Hosting;

/// <summary>
/// The Kestrel listeners built from the bind addresses, and which one accepted a connection. Routing is by the
/// port a connection arrived on, never by the client-chosen Host header, so <c>/metrics</c> cannot be reached
/// through the webhook's port whatever a client sends.
/// </summary>
public sealed class KwarmListeners
{
    /// <summary>
    /// How much of a request the server reads ahead of the application: per HTTP/1.1 connection at the socket and
    /// again after TLS, and per HTTP/2 stream (its flow-control window). Kestrel's defaults are 1 MiB at each
    /// HTTP/1.1 layer: a request waiting for the webhook's body budget (AdmissionBodyBudget) would have 2 MiB of its
    /// body read in meanwhile, 400 MB for 200 waiting near-limit reviews. At 64 KiB, waiting costs little, and a body
    /// being read still streams through at full speed.
    /// </summary>
    public const int ReadAheadBytes = 64 * 1024;

    private readonly ConcurrentDictionary<KwarmListener, ListenOptions> _listenOptions = new();

    /// <summary>
    /// The address a listener is bound to, with the real port once the server has started (port 0 asks the system
    /// for one); null before it is configured.
    /// </summary>
    public IPEndPoint? EndPointOf(KwarmListener listener) =>
        _listenOptions.TryGetValue(listener, out var options) ? options.IPEndPoint : null;

    /// <summary>The listener that owns <paramref name="localPort"/>, or null for a port that is none of Kwarm's.</summary>
    public KwarmListener? ListenerOf(int localPort)
    {
        foreach (var (listener, options) in _listenOptions)
        {
            if (options.IPEndPoint is { } endPoint && endPoint.Port == localPort)
            {
                return listener;
            }
        }

        return null;
    }

    internal void Configure(KestrelServerOptions kestrel)
    {
        KwarmOptions options;
        try
        {
            options = kestrel.ApplicationServices.GetRequiredService<IOptions<KwarmOptions>>().Value;
        }
        catch (OptionsValidationException)
        {
            // Kestrel's options are built with the application, before it starts; the start-up validation that
            // runs first in StartAsync reports the bad setting and stops the process before anything binds.
            return;
        }

        // Nothing in Kwarm's answers needs to advertise the server software.
        kestrel.AddServerHeader = false;
        kestrel.Limits.MaxRequestBufferSize = ReadAheadBytes;

        // HTTP/2 (kube-apiserver calls admission webhooks over HTTP/1.1 since kubernetes/kubernetes#82090, but other
        // clients may not): a stream waiting for the body budget keeps what it has received, and with it its share of
        // the connection's window, until it is read. With Kestrel's defaults (768 KiB per stream, 1 MiB per
        // connection) two waiting streams stall every other stream on the connection, the granted ones included,
        // until the waiting ones are refused: measured, 16 of 200 near-limit reviews answered, the rest refused after
        // the wait. So each stream may send 64 KiB ahead, and the connection's window is four times what all its
        // streams may hold: Kestrel gives window back to the connection only once half of it has been read, and the
        // granted streams must still find room when every other stream is full and waiting. The window is a limit,
        // not a buffer: what is held stays at 64 KiB per stream.
        kestrel.Limits.Http2.InitialStreamWindowSize = ReadAheadBytes;
        kestrel.Limits.Http2.InitialConnectionWindowSize = 4 * ReadAheadBytes * kestrel.Limits.Http2.MaxStreamsPerConnection;

        // Resolved at the first handshake: the source is registered by the admission component, possibly after the host.
        var certificates = new Lazy<IServingCertificateSource>(kestrel.ApplicationServices.GetRequiredService<IServingCertificateSource>);
        Listen(kestrel, KwarmListener.Webhook, options.WebhookBindAddress, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            // Asked on every handshake, so a certificate rotated by cert-manager is served without a restart.
            ServerCertificateSelector = (_, _) => certificates.Value.Current,
        }));
        Listen(kestrel, KwarmListener.Metrics, options.MetricsBindAddress, _ => { });
        Listen(kestrel, KwarmListener.Probes, options.HealthProbeBindAddress, _ => { });
    }

    private void Listen(KestrelServerOptions kestrel, KwarmListener listener, string bindAddress, Action<ListenOptions> configure)
    {
        // The validator has already accepted the address; a failure here is a bug, not bad input.
        if (!BindAddress.TryParse(bindAddress, out var address))
        {
            throw new InvalidOperationException($"The {listener} bind address \"{bindAddress}\" was not validated.");
        }

        void Remember(ListenOptions listen)
        {
            configure(listen);
            _listenOptions[listener] = listen;
        }

        if (address.Host is null)
        {
            kestrel.ListenAnyIP(address.Port, Remember);
        }
        else
        {
            kestrel.Listen(address.Host, address.Port, Remember);
        }
    }
}
