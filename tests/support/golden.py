"""Golden files: compare rendered text with its checked-in copy, or rewrite the copy under UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path


def check_golden(golden: Path, rendered: str) -> None:
    """Assert `rendered` equals the golden file; with UPDATE_GOLDEN=1 write it instead (review the diff)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
        return
    assert rendered == golden.read_text(encoding="utf-8"), f"{golden.stem} differs from {golden}; UPDATE_GOLDEN=1"
