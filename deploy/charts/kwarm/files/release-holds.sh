#!/bin/sh
# Releases every active Kwarm hold, so that removing Kwarm leaves no Deployment paused.
# Run by the Helm chart's pre-delete hook; kubectl users run it before deleting Kwarm:
#   sh deploy/charts/kwarm/files/release-holds.sh
# 0. with WEBHOOK_CONFIGURATION set (the chart sets it to kwarm), deletes that MutatingWebhookConfiguration first,
#    so that no new hold can start while the existing ones are released;
# 1. asks Kwarm to release each held Deployment (annotation kwarm.io/release=true) and waits up to
#    TIMEOUT_SECONDS (default 120) for it to do so;
# 2. releases whatever is still held itself, with the same patch Kwarm uses: it tests the hold id (so a newer hold
#    is never unpaused by mistake), sets spec.paused to false and replaces the hold annotations by kwarm.io/released.
# Needs: sh, kubectl with get/list/patch on deployments in every namespace (and delete on the webhook configuration).
set -eu

timeout_seconds=${TIMEOUT_SECONDS:-120}

# "namespace name hold-id" for every Deployment carrying kwarm.io/hold; fails when kubectl fails.
# (A jsonpath filter could select them in kubectl, but some kubectl versions fail on a filter that matches nothing.)
held() {
  listing=$(kubectl get deployments --all-namespaces \
    -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.annotations.kwarm\.io/hold}{"\n"}{end}') || return 1
  printf '%s\n' "$listing" | awk 'NF == 3'
}

if [ -n "${WEBHOOK_CONFIGURATION:-}" ]; then
  kubectl delete mutatingwebhookconfiguration "$WEBHOOK_CONFIGURATION" --ignore-not-found
fi

current=$(held)
printf '%s\n' "$current" | while read -r namespace name hold; do
  [ -n "$name" ] || continue
  echo "asking Kwarm to release $namespace/$name (hold $hold)"
  kubectl annotate deployment --namespace "$namespace" "$name" kwarm.io/release=true --overwrite ||
    echo "could not annotate $namespace/$name: it is released directly below if still held" >&2
done

waited=0
while [ -n "$current" ] && [ "$waited" -lt "$timeout_seconds" ]; do
  sleep 2
  waited=$((waited + 2))
  current=$(held)
done

printf '%s\n' "$current" | while read -r namespace name hold; do
  [ -n "$name" ] || continue
  echo "releasing $namespace/$name (hold $hold) directly"
  # Fails harmlessly when Kwarm released it (or a newer hold replaced it) meanwhile: the check below decides.
  kubectl patch deployment --namespace "$namespace" "$name" --type=json -p "[
    {\"op\":\"test\",\"path\":\"/metadata/annotations/kwarm.io~1hold\",\"value\":\"$hold\"},
    {\"op\":\"replace\",\"path\":\"/spec/paused\",\"value\":false},
    {\"op\":\"remove\",\"path\":\"/metadata/annotations/kwarm.io~1hold\"},
    {\"op\":\"add\",\"path\":\"/metadata/annotations/kwarm.io~1released\",\"value\":\"$hold\"}]" || true
  kubectl annotate deployment --namespace "$namespace" "$name" kwarm.io/policy- kwarm.io/release- kwarm.io/hold-started- >/dev/null 2>&1 || true
done

remaining=$(held)
if [ -n "$remaining" ]; then
  echo "still held (namespace name hold):" >&2
  printf '%s\n' "$remaining" >&2
  exit 1
fi
echo "no Deployment is held by Kwarm"
