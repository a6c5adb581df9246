#!/usr/bin/env bash
# Create (or update) the smm-hub-core namespace and register the project's search attributes.
# Idempotent: run it on every deploy. Uses the Temporal CLI and its usual environment
# (TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS_*); it never touches `default` (Postiz).
#   RETENTION=30d infra/temporal/setup.sh
set -euo pipefail
NAMESPACE="${TEMPORAL_NAMESPACE:-smm-hub-core}"
RETENTION="${RETENTION:-30d}"
TEMPORAL="${TEMPORAL_CLI:-temporal}"
if [ "$NAMESPACE" = "default" ]; then
  echo "refusing to configure 'default': it belongs to Postiz on the shared server" >&2
  exit 2
fi
if "$TEMPORAL" operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  "$TEMPORAL" operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null
  echo "namespace $NAMESPACE: exists, retention set to $RETENTION"
else
  "$TEMPORAL" operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null
  echo "namespace $NAMESPACE: created with retention $RETENTION"
fi
# A new namespace takes a few seconds to reach every frontend's cache.
for _ in $(seq 1 60); do
  "$TEMPORAL" operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1 && break
  sleep 1
done
# Search attributes the engine's workflows can be found by (e.g. in the Web UI).
# A busy server can fail a listing or show a new attribute late: ask three times before
# deciding an attribute is missing.
listed() {
  for _ in 1 2 3; do
    "$TEMPORAL" operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null \
      | grep -qw "$1" && return 0
    sleep 1
  done
  return 1
}
# The list orchestrator/visibility/attributes.py sets (tests/unit/test_visibility.py compares them).
for attribute in SmmAccount:Keyword SmmStage:Keyword SmmKind:Keyword SmmDocument:Keyword; do
  name="${attribute%%:*}"; type="${attribute##*:}"
  if listed "$name"; then
    echo "search attribute $name: exists"
  else
    "$TEMPORAL" operator search-attribute create --namespace "$NAMESPACE" --name "$name" \
      --type "$type" >/dev/null
    # Listing lags creation for a moment: wait until it shows, so a second run (or the
    # workflows) find it.
    for _ in $(seq 1 30); do
      "$TEMPORAL" operator search-attribute list --namespace "$NAMESPACE" 2>/dev/null \
        | grep -qw "$name" && break
      sleep 0.5
    done
    echo "search attribute $name: created ($type)"
  fi
done
