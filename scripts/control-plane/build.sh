#!/usr/bin/env bash
# Builds the real control plane the realcluster tests and `bench/run.py --cluster real` run on:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, from Go modules, at the
# versions pinned below, into a cache outside the repository. A second run only checks the cache.
#
#   bash scripts/control-plane/build.sh          # prints the bin directory on its last line
#
# kubectl and helm come from scripts/install-tools.sh (a kubectl one minor behind the apiserver is
# within the supported skew). k8s.io/kubernetes cannot be `go install`ed (its staging modules are
# replaced by path in its own go.mod), so kubernetes/go.mod is a committed wrapper module that
# replaces each staging module with its published version; etcd has a wrapper of its own so neither
# moves the other's dependencies. Regenerate a wrapper with `regen` after changing a version.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

KUBERNETES_VERSION=v1.36.3
ETCD_VERSION=v3.6.17
KWOK_VERSION=v0.8.0

CACHE_ROOT=${GENAI_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/genai-operator/control-plane}
BIN=$CACHE_ROOT/k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION/bin

fail() { echo "control-plane build: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || fail "Go is not installed (need Go 1.26 or newer on PATH: apt-get install golang, or the toolchain from go.dev)"
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
[ -n "$go_minor" ] && [ "$go_minor" -ge 26 ] || fail "Go $(go env GOVERSION) is too old: Kubernetes $KUBERNETES_VERSION needs Go 1.26 or newer"

if [ "${1:-}" = regen ]; then
  # Regenerates the wrapper modules (then review and commit kubernetes/ and etcd/ go.mod and go.sum).
  stg=v0.${KUBERNETES_VERSION#v1.}
  cd "$here/kubernetes"
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  printf 'module genai-operator/control-plane/kubernetes\n\ngo 1.26\n' > go.mod; rm -f go.sum
  go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
  sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod" |
    while read -r m; do go mod edit -replace="$m=$m@$stg"; done
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION"
  cd "$here/etcd"
  printf 'module genai-operator/control-plane/etcd\n\ngo 1.26\n' > go.mod; rm -f go.sum
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  exit 0
fi

mkdir -p "$BIN"
want=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
missing=()
for c in "${want[@]}"; do [ -x "$BIN/$c" ] || missing+=("$c"); done
# kwok has no built-in stages: the ones that make nodes Ready and pods Running ship in its module.
STAGES=$BIN/../stages
STAGE_FILES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
copy_stages() {
  local dir
  dir=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])') ||
    fail "could not download sigs.k8s.io/kwok@$KWOK_VERSION for its stages (GOPROXY=$(go env GOPROXY))"
  mkdir -p "$STAGES.tmp"
  for f in "${STAGE_FILES[@]}"; do cp "$dir/kustomize/stage/$f" "$STAGES.tmp/"; done
  rm -rf "$STAGES"; mv "$STAGES.tmp" "$STAGES"
}
[ -f "$STAGES/pod-ready.yaml" ] || copy_stages
if [ ${#missing[@]} -eq 0 ]; then
  echo "control-plane build: cached (${want[*]}) in $BIN"
  echo "$BIN"
  exit 0
fi

# The proxy is needed only for modules not yet in the module cache; say so plainly when it fails.
check_proxy() {
  if ! (cd "$1" && go mod download -x >/dev/null 2>"$BIN/../download.log"); then
    tail -n 5 "$BIN/../download.log" >&2
    fail "could not download the Go modules for $1 (GOPROXY=$(go env GOPROXY)); is the Go module proxy reachable?"
  fi
}

export CGO_ENABLED=0
build_started=$(date +%s)
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
# What upstream's hack/lib/version.sh stamps; without it /version says v0.0.0-master and helm's
# kubeVersion checks fail.
ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
done

step() {  # step NAME COMMAND...: runs one build step, timed, into a temp name then renamed
  local name=$1; shift
  local t0; t0=$(date +%s)
  echo "control-plane build: $name ..." >&2
  if ! "$@" >"$BIN/../build-$name.log" 2>&1; then
    tail -n 20 "$BIN/../build-$name.log" >&2
    fail "building $name failed (full log: $BIN/../build-$name.log)"
  fi
  echo "control-plane build: $name done in $(( $(date +%s) - t0 )) s" >&2
}

build_kubernetes() {
  cd "$here/kubernetes"
  go build -mod=readonly -trimpath -tags=selinux,notest -ldflags="$ld" -o "$BIN/.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler
}
build_etcd() {
  cd "$here/etcd"
  go build -mod=readonly -trimpath -ldflags="-s -w" -o "$BIN/.tmp/etcd" go.etcd.io/etcd/server/v3
}
build_kwok() {
  GOBIN="$BIN/.tmp" go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

rm -rf "$BIN/.tmp"; mkdir -p "$BIN/.tmp"
echo "control-plane build: building ${missing[*]} (Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION) into $BIN; the first build takes a while" >&2
for c in "${missing[@]}"; do
  case $c in
    etcd) check_proxy "$here/etcd"; step etcd build_etcd ;;
    kwok) step kwok build_kwok ;;
    kube-*) [ -x "$BIN/.tmp/$c" ] && continue
            check_proxy "$here/kubernetes"; step kubernetes build_kubernetes ;;
  esac
done
for c in "${missing[@]}"; do mv -f "$BIN/.tmp/$c" "$BIN/$c"; done
rm -rf "$BIN/.tmp"
"$BIN/kube-apiserver" --version >&2
echo "control-plane build: built ${missing[*]} in $(( $(date +%s) - build_started )) s" >&2
echo "$BIN"
