"""mode verify: a model that is mounted rather than copied (pvc://, file://, and oci:// when the operator mounts
the image as a volume instead of having it fetched) is only checked, so that a wrong path fails in the init
container with the path and what was expected, not later in the engine. The uri is not read here at all."""

from __future__ import annotations

from pathlib import Path

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_selection import select_files
from genai_model_loader.plan import PlanItem
from genai_model_loader.progress import format_bytes
from genai_model_loader.remote_files import RemoteFile

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
HF_WEIGHTS = (".safetensors", ".bin")


def verify(item: PlanItem) -> str:
    """What was found, for the log; raises NoModelFiles naming the path and what was expected."""
    path = Path(item.dest)
    expected = _expected(item)
    if not path.exists():
        raise _missing(path, "does not exist", expected)
    if path.is_file():
        if path.name.lower().endswith(WEIGHT_SUFFIXES):
            return f"{path} ({format_bytes(path.stat().st_size)})"
        raise _missing(path, "is a file but not a model file", expected)
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    top = {p.name for p in files if p.parent == path}
    if item.file or item.gguf_type:
        listing = [RemoteFile(p.relative_to(path).as_posix(), p.stat().st_size) for p in files]
        try:
            chosen = select_files(listing, file=item.file, gguf_type=item.gguf_type, default_filter=False)
        except LoaderError as err:
            raise _missing(path, f"lacks it ({err.detail})", expected) from None
        return f"{path}: {', '.join(f.path for f in chosen)} ({format_bytes(sum(f.size or 0 for f in chosen))})"
    if item.name.startswith("adapter:"):
        if "adapter_config.json" in top:
            return f"{path}: adapter_config.json and {len(top) - 1} more files"
        raise _missing(path, "has no adapter_config.json", expected)
    weights = [p for p in files if p.parent == path and p.name.lower().endswith(HF_WEIGHTS)]
    ggufs = [p for p in files if p.name.lower().endswith(".gguf")]
    if "config.json" in top and weights:
        size = sum(p.stat().st_size for p in weights)
        return f"{path}: config.json and {len(weights)} weight files ({format_bytes(size)})"
    if ggufs:
        return f"{path}: {', '.join(p.relative_to(path).as_posix() for p in ggufs[:5])}"
    found = ", ".join(sorted(top)[:10]) or "nothing"
    raise _missing(path, f"holds {found}", expected)


def _expected(item: PlanItem) -> str:
    if item.file:
        return f"the file {item.file}"
    if item.gguf_type:
        return f"a .gguf file of type {item.gguf_type}"
    if item.name.startswith("adapter:"):
        return "adapter_config.json (a PEFT adapter)"
    return "config.json plus *.safetensors or *.bin, or a *.gguf file"


def _missing(path: Path, problem: str, expected: str) -> LoaderError:
    return LoaderError(
        Reason.NO_MODEL_FILES,
        f"{path} {problem}; expected {expected}; check the volume's contents and the path in the uri",
    )
