#!/usr/bin/env bash
# Removes the kind cluster up.sh created (and with it Meshlet and Bookinfo).
set -euo pipefail
CLUSTER="${MESHLET_KIND_CLUSTER:-meshlet}"
if ! command -v kind >/dev/null 2>&1; then
  echo "down.sh: 'kind' is required but not installed" >&2
  exit 1
fi
if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind delete cluster --name "$CLUSTER"
else
  echo "no kind cluster named '$CLUSTER'"
fi
