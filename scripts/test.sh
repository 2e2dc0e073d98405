#!/usr/bin/env bash
# The project's test command (the README's second line): set-up on a fresh machine, lint, type-check, test.
# The real-control-plane tier (tests/realcluster) needs Go: its binaries are built once into a cache
# (scripts/control-plane/build.sh). Without Go it is skipped with one loud line, except in CI, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
GENAI_SETUP=test source scripts/setup.sh
echo "== ruff"; ruff check operator loader tests bench scripts; ruff format --check operator loader tests bench scripts
echo "== mypy (strict on the package)"; mypy
echo "== import-linter (the architecture's contracts)"; PYTHONPATH=loader lint-imports --no-cache
echo "== control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok)"
if [ "${GENAI_REALCLUSTER:-1}" = 0 ]; then
  echo "!!! GENAI_REALCLUSTER=0: the real-control-plane tier is left out of this run"
elif command -v go >/dev/null 2>&1 || [ -n "${GENAI_CONTROL_PLANE_BIN:-}" ]; then
  GENAI_CONTROL_PLANE_BIN=${GENAI_CONTROL_PLANE_BIN:-$(bash scripts/control-plane/build.sh | tail -n 1)}
  export GENAI_CONTROL_PLANE_BIN
else
  echo "!!! Go is not installed: the real-control-plane tier (tests/realcluster) will be SKIPPED; install Go 1.26+ to run it"
fi
echo "== pytest"; python -m pytest -q "$@"
echo "== demo"; genai-operator demo --timeout 120
