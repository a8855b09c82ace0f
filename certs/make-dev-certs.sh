#!/usr/bin/env bash
# Makes a local CA and a webhook serving certificate for running Kwarm outside the cluster
# (or against the simulator): tls.crt/tls.key go to --webhook-cert-dir, ca.crt into the
# MutatingWebhookConfiguration's caBundle. In a cluster, cert-manager does this instead (see *.yaml here).
#
# usage: certs/make-dev-certs.sh [OUT_DIR] [EXTRA_DNS_NAME...]
set -euo pipefail
out="${1:-certs/dev}"
shift || true
mkdir -p "$out"

sans="DNS:localhost,IP:127.0.0.1,DNS:kwarm-webhook.kwarm-system.svc,DNS:kwarm-webhook.kwarm-system.svc.cluster.local"
for name in "$@"; do sans="$sans,DNS:$name"; done

if [ ! -f "$out/ca.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kwarm-dev-ca" \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

openssl req -newkey rsa:2048 -nodes -subj "/CN=kwarm-webhook.kwarm-system.svc" \
  -keyout "$out/tls.key" -out "$out/tls.csr" 2>/dev/null
openssl x509 -req -in "$out/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial -days 365 \
  -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n' "$sans") \
  -out "$out/tls.crt" 2>/dev/null
rm -f "$out/tls.csr" "$out/ca.srl"
chmod 600 "$out/ca.key" "$out/tls.key"

echo "wrote $out/ca.crt, $out/tls.crt, $out/tls.key (SANs: $sans)"
echo "caBundle: $(base64 -w0 < "$out/ca.crt" | cut -c1-24)..."
