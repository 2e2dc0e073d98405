"""Where things are in the repository, for every test tier: one place instead of `__file__` arithmetic."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
GOLDEN = TESTS / "golden"
UPSTREAM_CRDS = TESTS / "upstream_crds"
EXAMPLES = ROOT / "examples"
