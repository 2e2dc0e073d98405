#!/usr/bin/env bash
# Sourced by the README commands: a virtualenv in .venv with the package (editable) and its demo extra (the emulator's
# kmock). The demo needs nothing more;
# scripts/test.sh sets GENAI_SETUP=test first, which adds the dev extras and the external tools (helm, kubectl,
# hadolint, checkov). Idempotent; a re-run only checks that the environment is current.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
mode=${GENAI_SETUP:-demo}
extras=$([ "$mode" = test ] && echo '.[demo,dev]' || echo '.[demo]')
stamp=.venv/.installed-$mode-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -e "$extras"
  touch "$stamp"
fi
if [ "$mode" = test ]; then
  # helm, kubectl, hadolint and checkov for the chart, image and real-cluster tests (cached; a re-run only checks).
  bash scripts/install-tools.sh
fi
