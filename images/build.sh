#!/usr/bin/env bash
# Build the operator image (or, with `loader` first, the model loader image) from the repository's sources and,
# with --push, push it with an SBOM and build provenance attached (BuildKit attestations), printing the pushed
# digest for image.digest.
#
#   images/build.sh                                  # local build for this machine: genai-operator:dev
#   IMAGE=ghcr.io/acme/genai-operator TAG=0.1.0 images/build.sh --push   # multi-platform, SBOM, push
#   images/build.sh loader [--push]                  # the init container: genai-model-loader
#
# Environment: IMAGE (repository), TAG (default: the package version), PLATFORMS (push only; default
# linux/amd64,linux/arm64), PYTHON_IMAGE (override the pinned base). Needs docker with buildx.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n1)
DOCKERFILE=images/operator/Dockerfile
case "${1:-}" in
  operator) shift ;;
  loader) shift; DOCKERFILE=images/loader/Dockerfile; IMAGE=${IMAGE:-genai-model-loader} ;;
esac
IMAGE=${IMAGE:-genai-operator}
TAG=${TAG:-$VERSION}
PLATFORMS=${PLATFORMS:-linux/amd64,linux/arm64}
args=(--file "$DOCKERFILE" --build-arg "VERSION=$VERSION" --tag "$IMAGE:$TAG")
[ -n "${PYTHON_IMAGE:-}" ] && args+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")

command -v docker >/dev/null || { echo "build.sh: docker is not installed" >&2; exit 1; }
if [ "${1:-}" = "--push" ]; then
  metadata=$(mktemp)
  docker buildx build "${args[@]}" --platform "$PLATFORMS" \
    --sbom=true --provenance=mode=max \
    --metadata-file "$metadata" --push .
  digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["containerimage.digest"])' "$metadata")
  rm -f "$metadata"
  echo "pushed $IMAGE:$TAG@$digest"
  echo "install with: --set image.repository=$IMAGE --set image.digest=$digest"
else
  docker buildx build "${args[@]}" --load .
  echo "built $IMAGE:$TAG"
fi
