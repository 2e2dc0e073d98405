#!/usr/bin/env bash
# Sourced by the README commands: a virtualenv in .venv with the package (editable) and its dev tools.
# Idempotent; a re-run only checks that the environment is current.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  python -m pip install --quiet --upgrade pip
  python -m pip install --quiet -e '.[dev]'
  touch "$stamp"
fi
# helm, kubectl, hadolint and checkov for the chart and image tests (cached; a re-run only checks).
bash scripts/install-tools.sh
