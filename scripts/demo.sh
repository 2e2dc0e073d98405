#!/usr/bin/env bash
# The README's first command: set up .venv, then run the operator on an in-process emulated cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec genai-operator demo "$@"
