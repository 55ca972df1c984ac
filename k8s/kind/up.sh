#!/usr/bin/env bash
# Meshlet on kind, start to finish: a cluster, the image built from this
# repository and loaded into it, the control plane (k8s/ kustomization),
# injection switched on for `default`, Bookinfo deployed and ready.
# Needs docker, kind and kubectl. Re-running it is safe.
set -euo pipefail

CLUSTER="${MESHLET_KIND_CLUSTER:-meshlet}"
# The manifests name this image; kind nodes use the loaded copy (no registry).
IMAGE="meshlet:dev"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "up.sh: '$1' is required but not installed" >&2
    exit 1
  fi
}
need docker
need kind
need kubectl

if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  echo "==> kind cluster '$CLUSTER' exists, reusing it"
else
  echo "==> creating kind cluster '$CLUSTER' (native sidecars need Kubernetes >= 1.29)"
  kind create cluster --name "$CLUSTER" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER" >/dev/null

echo "==> building $IMAGE"
docker build -t "$IMAGE" "$ROOT"
echo "==> loading $IMAGE into the cluster"
kind load docker-image "$IMAGE" --name "$CLUSTER"

echo "==> installing Meshlet (CRDs, RBAC, control plane, injection webhook)"
kubectl apply -k "$ROOT/k8s"
kubectl wait --for=condition=Established --timeout=60s \
  crd/virtualservices.networking.istio.io crd/destinationrules.networking.istio.io crd/serviceentries.networking.istio.io
kubectl -n meshlet-system rollout status deployment/meshlet-control-plane --timeout=180s

echo "==> enabling injection in namespace default"
kubectl label namespace default meshlet-injection=enabled --overwrite

echo "==> deploying Bookinfo"
kubectl apply -f "$ROOT/k8s/examples/bookinfo.yaml"
kubectl -n default wait --for=condition=Available deployment --all --timeout=300s

cat <<NEXT

Meshlet and Bookinfo are running in kind cluster '$CLUSTER'. Next:

  # every Bookinfo pod has a meshlet-proxy sidecar (2 containers ready)
  kubectl get pods
  # sidecars connected to the control plane, and the Kubernetes source state
  kubectl -n meshlet-system exec deploy/meshlet-control-plane -- meshlet status
  # a request through the mesh
  kubectl exec deploy/ratings-v1 -c ratings -- curl -s productpage:9080/productpage | grep -o '<title>.*</title>'
  # subsets, then send all reviews traffic to v3, then a fault on ratings
  kubectl apply -f $ROOT/k8s/examples/destination-rules.yaml
  kubectl apply -f $ROOT/k8s/examples/reviews-v3.yaml
  kubectl apply -f $ROOT/k8s/examples/ratings-delay.yaml
  # watch live requests through the productpage sidecar
  kubectl exec deploy/productpage-v1 -c meshlet-proxy -- meshlet tap

Remove everything with: $ROOT/k8s/kind/down.sh
NEXT
