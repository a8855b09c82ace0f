#!/bin/sh
# Releases every active Kwarm hold, so that removing Kwarm leaves no Deployment paused and no StatefulSet or
# DaemonSet held. Run by the Helm chart's pre-delete hook; kubectl users run it before deleting Kwarm:
#   sh deploy/charts/kwarm/files/release-holds.sh
# 0. with WEBHOOK_CONFIGURATION set (the chart sets it to kwarm), deletes that MutatingWebhookConfiguration first,
#    so that no new hold can start while the existing ones are released;
# 1. asks Kwarm to release each held Deployment, StatefulSet and DaemonSet (annotation kwarm.io/release=true) and
#    waits up to TIMEOUT_SECONDS (default 120) for it to do so;
# 2. releases whatever is still held itself, with the same JSON Patch Kwarm uses, which tests the hold id first (so a
#    newer hold is never released by mistake) and writes kwarm.io/released:
#    - Deployment: spec.paused false;
#    - StatefulSet: spec.updateStrategy.rollingUpdate.partition back to the number recorded in kwarm.io/partition
#      (removed when it recorded none), kwarm.io/hold, kwarm.io/policy and kwarm.io/partition removed;
#    - DaemonSet: spec.updateStrategy back to the JSON recorded in kwarm.io/update-strategy, kwarm.io/hold,
#      kwarm.io/policy and kwarm.io/update-strategy removed.
#    A recorded value that is missing or not a value (edited by hand) restores the API's default (partition 0;
#    RollingUpdate with maxUnavailable 1, maxSurge 0), as Kwarm does, and the script says so on stderr.
# Needs: sh, awk, kubectl with get/list/patch on deployments, statefulsets and daemonsets in every namespace (and
# delete on the webhook configuration).
set -eu

timeout_seconds=${TIMEOUT_SECONDS:-120}
max_partition=2147483647
default_partition=0
default_update_strategy='{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}}'

# "kind namespace name hold-id" for every workload carrying kwarm.io/hold; fails when kubectl fails.
# (A jsonpath filter could select them in kubectl, but some kubectl versions fail on a filter that matches nothing.)
held() {
  for kind in deployment statefulset daemonset; do
    listing=$(kubectl get "${kind}s" --all-namespaces \
      -o jsonpath='{range .items[*]}{.metadata.namespace}{" "}{.metadata.name}{" "}{.metadata.annotations.kwarm\.io/hold}{"\n"}{end}') || return 1
    printf '%s\n' "$listing" | awk -v kind="$kind" 'NF == 3 { print kind, $0 }'
  done
}

# Succeeds when $1 is a decimal partition Kwarm could have recorded: 0 to 2147483647.
valid_partition() {
  printf '%s' "$1" | awk -v max="$max_partition" 'NR == 1 && /^[0-9]+$/ && length($0) <= 10 && $0 + 0 <= max + 0 { ok = 1 } END { exit !(ok && NR == 1) }'
}

# Succeeds when $1 is one JSON object of the characters an update strategy is written with, closed only at its end:
# whatever else is written there must never become more than the value of /spec/updateStrategy in the patch.
valid_update_strategy() {
  printf '%s' "$1" | awk '
    NR > 1 { bad = 1 }
    { text = $0 }
    END {
      if (bad || text !~ /^[{][A-Za-z0-9%":, {}]*[}]$/) exit 1
      depth = 0; quoted = 0
      for (i = 1; i <= length(text); i++) {
        c = substr(text, i, 1)
        if (c == "\"") quoted = !quoted
        else if (!quoted && c == "{") depth++
        else if (!quoted && c == "}") { depth--; if (depth == 0 && i < length(text)) exit 1 }
      }
      exit !(depth == 0 && !quoted)
    }'
}

# The JSON Patch that releases one hold ($1 kind, $2 namespace, $3 name, $4 hold id), as Kwarm's hold controller
# writes it; prints nothing (and fails) when the workload cannot be read.
release_patch() {
  test_hold="{\"op\":\"test\",\"path\":\"/metadata/annotations/kwarm.io~1hold\",\"value\":\"$4\"}"
  released="{\"op\":\"add\",\"path\":\"/metadata/annotations/kwarm.io~1released\",\"value\":\"$4\"}"
  remove_hold='{"op":"remove","path":"/metadata/annotations/kwarm.io~1hold"}'
  remove_policy='{"op":"remove","path":"/metadata/annotations/kwarm.io~1policy"}'
  case "$1" in
    deployment)
      printf '[%s,%s,%s,%s]' "$test_hold" '{"op":"replace","path":"/spec/paused","value":false}' "$remove_hold" "$released" ;;
    statefulset)
      # Line 1: whether kwarm.io/policy is there; 2: the partition now; 3: the recorded one.
      details=$(kubectl get statefulset --namespace "$2" "$3" -o jsonpath='{.metadata.annotations.kwarm\.io/policy}{"\n"}{.spec.updateStrategy.rollingUpdate.partition}{"\n"}{.metadata.annotations.kwarm\.io/partition}') || return 1
      policy=$(printf '%s\n' "$details" | sed -n 1p)
      current=$(printf '%s\n' "$details" | sed -n 2p)
      recorded=$(printf '%s\n' "$details" | sed -n '3,$p')
      partition_path=/spec/updateStrategy/rollingUpdate/partition
      restore=""
      if [ "$recorded" = none ]; then
        # The user had no partition: remove the hold's, only if it is there (a remove of nothing fails the patch).
        if [ -n "$current" ]; then
          restore="{\"op\":\"remove\",\"path\":\"$partition_path\"},"
        fi
      else
        partition=$recorded
        if ! valid_partition "$partition"; then
          echo "warning: $2/$3 has no usable kwarm.io/partition (\"$recorded\"): restoring the API default, partition $default_partition" >&2
          partition=$default_partition
        fi
        restore="{\"op\":\"add\",\"path\":\"$partition_path\",\"value\":$partition},"
      fi
      printf '[%s,%s%s%s,%s%s]' "$test_hold" "$restore" "$remove_hold" "${policy:+,$remove_policy}" \
        "$(annotation_removal "$recorded" partition)" "$released" ;;
    daemonset)
      # Line 1: whether kwarm.io/policy is there; 2 on: the recorded strategy.
      details=$(kubectl get daemonset --namespace "$2" "$3" -o jsonpath='{.metadata.annotations.kwarm\.io/policy}{"\n"}{.metadata.annotations.kwarm\.io/update-strategy}') || return 1
      policy=$(printf '%s\n' "$details" | sed -n 1p)
      recorded=$(printf '%s\n' "$details" | sed -n '2,$p')
      strategy=$recorded
      if ! valid_update_strategy "$strategy"; then
        echo "warning: $2/$3 has no usable kwarm.io/update-strategy ('$recorded'): restoring the API default, $default_update_strategy" >&2
        strategy=$default_update_strategy
      fi
      printf '[%s,%s,%s%s,%s%s]' "$test_hold" "{\"op\":\"add\",\"path\":\"/spec/updateStrategy\",\"value\":$strategy}" "$remove_hold" \
        "${policy:+,$remove_policy}" "$(annotation_removal "$recorded" update-strategy)" "$released" ;;
  esac
}

# The remove of the annotation that recorded the user's value, followed by a comma, when it is there ($1 its value).
annotation_removal() {
  if [ -n "$1" ]; then
    printf '{"op":"remove","path":"/metadata/annotations/kwarm.io~1%s"},' "$2"
  fi
}

if [ -n "${WEBHOOK_CONFIGURATION:-}" ]; then
  kubectl delete mutatingwebhookconfiguration "$WEBHOOK_CONFIGURATION" --ignore-not-found
fi

current=$(held)
printf '%s\n' "$current" | while read -r kind namespace name hold; do
  [ -n "$name" ] || continue
  echo "asking Kwarm to release $kind $namespace/$name (hold $hold)"
  kubectl annotate "$kind" --namespace "$namespace" "$name" kwarm.io/release=true --overwrite ||
    echo "could not annotate $kind $namespace/$name: it is released directly below if still held" >&2
done

waited=0
while [ -n "$current" ] && [ "$waited" -lt "$timeout_seconds" ]; do
  sleep 2
  waited=$((waited + 2))
  current=$(held)
done

printf '%s\n' "$current" | while read -r kind namespace name hold; do
  [ -n "$name" ] || continue
  echo "releasing $kind $namespace/$name (hold $hold) directly"
  # Fails harmlessly when Kwarm released it (or a newer hold replaced it) meanwhile: the check below decides.
  patch=$(release_patch "$kind" "$namespace" "$name" "$hold") || continue
  if kubectl patch "$kind" --namespace "$namespace" "$name" --type=json -p "$patch"; then
    # What Kwarm also removes with its release; only after this hold's own release, never from a newer hold.
    kubectl annotate "$kind" --namespace "$namespace" "$name" kwarm.io/policy- kwarm.io/release- kwarm.io/hold-started- >/dev/null 2>&1 || true
  fi
done

remaining=$(held)
if [ -n "$remaining" ]; then
  echo "still held (kind namespace name hold):" >&2
  printf '%s\n' "$remaining" >&2
  exit 1
fi
echo "no Deployment, StatefulSet or DaemonSet is held by Kwarm"
