#!/usr/bin/env bash
# Real-cluster end-to-end suite (needs a Docker engine and kind; `make e2e` or tests/e2e/test_e2e.py):
#  1. creates a kind cluster (KIND_CLUSTER, default genai-e2e; kept with KEEP_CLUSTER=1);
#  2. fakes one NVIDIA L4 on the node: GPU Feature Discovery labels, and nvidia.com/gpu patched into the
#     node status (capacity and allocatable), as the device plugin would advertise it;
#  3. builds the operator image (images/operator/Dockerfile), the model-loader image (images/loader/Dockerfile)
#     and a stub engine image, loads them into kind;
#  4. installs the chart into a namespace that enforces Pod Security "restricted";
#  5. applies tests/e2e/modeldeployment.yaml into a "restricted" namespace and waits for ModelLoaded (the real
#     loader fetches a tiny model from the Hugging Face Hub) and Ready;
#  6. deletes it and checks that garbage collection removes every child;
#  7. fails on any RBAC denial in the operator's log.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
CLUSTER=${KIND_CLUSTER:-genai-e2e}
OPERATOR_IMAGE=genai-operator:e2e
STUB_IMAGE=genai-engine-stub:e2e
LOADER_IMAGE=genai-model-loader:e2e
OPERATOR_NS=genai-system
MODEL_NS=e2e
MD=e2e-model
export PATH="$ROOT/.venv/bin:$PATH"   # helm and kubectl from scripts/install-tools.sh
export KUBECONFIG=${KUBECONFIG_E2E:-$(mktemp -t genai-e2e-kubeconfig.XXXXXX)}

log() { printf '\n== %s\n' "$*"; }
fail() { echo "e2e: FAILED: $*" >&2; exit 1; }

for tool in docker kind kubectl helm; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
docker info >/dev/null 2>&1 || fail "no Docker engine reachable (docker info failed)"

cleanup() {
  status=$?
  if [ $status -ne 0 ]; then
    echo "--- diagnostics"
    kubectl get modeldeployments,deployments,pods,services,events -A -o wide 2>/dev/null | tail -n 60 || true
    kubectl -n "$OPERATOR_NS" logs deployment/genai-genai-operator --tail=200 2>/dev/null || true
  fi
  if [ "${KEEP_CLUSTER:-0}" != "1" ]; then
    kind delete cluster --name "$CLUSTER" >/dev/null 2>&1 || true
    rm -f "$KUBECONFIG"
  fi
  exit $status
}
trap cleanup EXIT

log "kind cluster $CLUSTER"
if ! kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  kind create cluster --name "$CLUSTER" --wait 180s
fi
kind export kubeconfig --name "$CLUSTER" --kubeconfig "$KUBECONFIG"
NODE=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')

log "fake GPU capacity on $NODE"
kubectl label node "$NODE" --overwrite \
  nvidia.com/gpu.product=NVIDIA-L4 nvidia.com/gpu.memory=23034 nvidia.com/gpu.count=1
kubectl patch node "$NODE" --subresource=status --type=json -p '[
  {"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": "1"},
  {"op": "add", "path": "/status/allocatable/nvidia.com~1gpu", "value": "1"}]'
for _ in $(seq 1 30); do
  gpus=$(kubectl get node "$NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}')
  [ "$gpus" = "1" ] && break
  sleep 1
done
[ "$gpus" = "1" ] || fail "nvidia.com/gpu did not appear in the node's allocatable"

log "images"
IMAGE=genai-operator TAG=e2e images/build.sh
IMAGE=genai-model-loader TAG=e2e images/build.sh loader
docker build --tag "$STUB_IMAGE" tests/e2e/engine-stub
kind load docker-image "$OPERATOR_IMAGE" "$LOADER_IMAGE" "$STUB_IMAGE" --name "$CLUSTER"

log "chart"
for ns in "$OPERATOR_NS" "$MODEL_NS"; do
  kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
  kubectl label namespace "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted
done
helm upgrade --install genai charts/genai-operator --namespace "$OPERATOR_NS" \
  --set image.repository=genai-operator --set image.tag=e2e --set image.pullPolicy=Never \
  --set loaderImage="$LOADER_IMAGE" --set keda.enabled=false --wait --timeout 180s
kubectl get crd modeldeployments.genaiops.dev placementpools.genaiops.dev

log "ModelDeployment $MODEL_NS/$MD"
kubectl apply -f tests/e2e/modeldeployment.yaml
kubectl -n "$MODEL_NS" wait "modeldeployment/$MD" --for=condition=ModelLoaded --timeout=300s
kubectl -n "$MODEL_NS" wait "modeldeployment/$MD" --for=condition=Ready --timeout=300s
kubectl -n "$MODEL_NS" get modeldeployment "$MD" -o wide
selector="genaiops.dev/model-deployment=$MD"
children="deployments,services,networkpolicies,poddisruptionbudgets,horizontalpodautoscalers"
[ -n "$(kubectl -n "$MODEL_NS" get deployments -l "$selector" -o name)" ] || fail "no Deployment created"
[ -n "$(kubectl -n "$MODEL_NS" get services -l "$selector" -o name)" ] || fail "no Service created"
[ -n "$(kubectl -n "$MODEL_NS" get networkpolicies -l "$selector" -o name)" ] || fail "no NetworkPolicy created"
endpoint=$(kubectl -n "$MODEL_NS" get modeldeployment "$MD" -o jsonpath='{.status.endpoint}')
[ "$endpoint" = "http://$MD.$MODEL_NS.svc:8000/v1" ] || fail "unexpected status.endpoint: $endpoint"

log "delete and garbage collection"
kubectl -n "$MODEL_NS" delete modeldeployment "$MD" --wait --timeout=120s
for _ in $(seq 1 60); do
  left=$(kubectl -n "$MODEL_NS" get "$children" -l "$selector" -o name)
  [ -z "$left" ] && break
  sleep 2
done
[ -z "$left" ] || fail "children left after deletion: $left"
kubectl -n "$MODEL_NS" wait pods -l "$selector" --for=delete --timeout=120s

log "operator log"
if kubectl -n "$OPERATOR_NS" logs deployment/genai-genai-operator | grep -Ei '403|forbidden'; then
  fail "RBAC denials in the operator log"
fi
echo "e2e: passed"
