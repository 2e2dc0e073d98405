#!/usr/bin/env bash
# The project's test command (the README's second line): set-up on a fresh machine, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== ruff"; ruff check operator loader tests bench
echo "== mypy (strict on the package)"; mypy
echo "== pytest"; python -m pytest -q "$@"
echo "== demo"; genai-operator demo --timeout 120
