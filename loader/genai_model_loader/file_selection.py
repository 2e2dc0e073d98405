"""Which files of a listing to fetch: one named file (with all parts of a split GGUF), the GGUF files of one
quantization type, or, from a Hub repository, what an engine loads (safetensors and their configs and tokenizer,
never a second copy of the weights in another format)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.remote_files import RemoteFile

SPLIT_GGUF = re.compile(r"(?P<stem>.+)-(?P<part>\d{5})-of-(?P<total>\d{5})\.gguf", re.IGNORECASE)
# llama.cpp quantization names as they appear in file names: Q4_K_M, Q8_0, IQ4_XS, TQ1_0, F16, BF16, MXFP4...
GGUF_TYPE = re.compile(
    r"(?<![A-Za-z0-9])((?:I?Q|TQ)\d(?:_[A-Za-z0-9]+)*|B?F(?:16|32)|MXFP4)(?![A-Za-z0-9])", re.IGNORECASE
)
CONFIG_SUFFIXES = (".json", ".model", ".tiktoken", ".txt", ".jinja")
FALLBACK_WEIGHTS = (".bin", ".pt")
# Other formats of the same weights that engines loading safetensors never read.
SKIP_DIRS = frozenset({"original", "onnx", "openvino", "coreml", "tflite", "flax"})


def select_files(
    files: Sequence[RemoteFile], *, file: str | None, gguf_type: str | None, default_filter: bool
) -> list[RemoteFile]:
    if file:
        return _named_file(files, file.strip("/"))
    if gguf_type:
        return _gguf_of_type(files, gguf_type)
    if default_filter:
        return _engine_files(files)
    if not files:
        raise LoaderError(Reason.NOT_FOUND, "the source holds no files; check the path")
    return list(files)


def gguf_types(files: Sequence[RemoteFile]) -> list[str]:
    """The quantization types the GGUF files of a listing come in, for error messages."""
    found = {match.upper() for f in files if _is_gguf(f) for match in GGUF_TYPE.findall(PurePosixPath(f.path).name)}
    return sorted(found)


def _named_file(files: Sequence[RemoteFile], wanted: str) -> list[RemoteFile]:
    by_path = {f.path: f for f in files}
    if wanted not in by_path:
        ggufs = [f.path for f in files if _is_gguf(f)]
        listed = f" (its .gguf files: {', '.join(ggufs[:20])})" if ggufs else ""
        raise LoaderError(Reason.NOT_FOUND, f"the file {wanted} is not in the source{listed}; check the path")
    split = SPLIT_GGUF.fullmatch(wanted)
    if not split:
        return [by_path[wanted]]
    return _split_parts(files, split)


def _split_parts(files: Sequence[RemoteFile], split: re.Match[str]) -> list[RemoteFile]:
    stem, total = split.group("stem"), int(split.group("total"))
    parts = {}
    for f in files:
        match = SPLIT_GGUF.fullmatch(f.path)
        if match and match.group("stem") == stem and int(match.group("total")) == total:
            parts[int(match.group("part"))] = f
    missing = sorted(set(range(1, total + 1)) - set(parts))
    if missing:
        raise LoaderError(
            Reason.NOT_FOUND,
            f"the split GGUF {stem} has {total} parts but the source lacks part(s) {', '.join(map(str, missing))}",
        )
    return [parts[n] for n in sorted(parts)]


def _gguf_of_type(files: Sequence[RemoteFile], gguf_type: str) -> list[RemoteFile]:
    ggufs = [f for f in files if _is_gguf(f)]
    if not ggufs:
        raise LoaderError(
            Reason.NOT_FOUND,
            f"ggufType {gguf_type} asks for a GGUF file but the source has no "
            ".gguf files; use a GGUF repository or drop ggufType",
        )
    # The type as a whole token: Q4_K must not pick Q4_K_M, nor Q4_XS pick IQ4_XS.
    token = re.compile(rf"(?<![A-Za-z0-9]){re.escape(gguf_type)}(?![A-Za-z0-9]|_[A-Za-z0-9])", re.IGNORECASE)
    matched = [f for f in ggufs if token.search(f.path)]
    # Vision projectors (mmproj-*) share the type name but are not the model.
    models = [f for f in matched if not PurePosixPath(f.path).name.lower().startswith("mmproj")] or matched
    if not models:
        available = ", ".join(gguf_types(ggufs)) or ", ".join(f.path for f in ggufs[:20])
        raise LoaderError(
            Reason.NOT_FOUND,
            f"no .gguf file of type {gguf_type}; the source has {available}; "
            "set spec.quantization.ggufType to one of them",
        )
    chosen: dict[str, RemoteFile] = {}
    for f in models:
        split = SPLIT_GGUF.fullmatch(f.path)
        for part in _split_parts(files, split) if split else [f]:
            chosen[part.path] = part
    return sorted(chosen.values(), key=lambda f: f.path)


def _engine_files(files: Sequence[RemoteFile]) -> list[RemoteFile]:
    consolidated_dirs = {
        str(PurePosixPath(f.path).parent)
        for f in files
        if PurePosixPath(f.path).name.startswith("consolidated") and "/" in f.path
    }
    candidates = [f for f in files if not _skipped_dir(f.path, consolidated_dirs)]
    wanted = [f for f in candidates if _is_config(f.path) or f.path.endswith(".safetensors")]
    if not any(f.path.endswith(".safetensors") for f in wanted):
        wanted += [f for f in candidates if f.path.endswith(FALLBACK_WEIGHTS)]
    else:
        # With safetensors, indexes of other formats only mislead a loader into looking for them.
        wanted = [f for f in wanted if not f.path.endswith((".bin.index.json", ".pt.index.json"))]
    weights = [f for f in wanted if f.path.endswith((".safetensors", *FALLBACK_WEIGHTS))]
    # Mistral repositories carry consolidated.safetensors next to the sharded copy: the same weights twice.
    if any(not _is_consolidated(f.path) for f in weights):
        wanted = [f for f in wanted if not _is_consolidated(f.path)]
        weights = [f for f in weights if not _is_consolidated(f.path)]
    if not weights:
        types = gguf_types(files)
        hint = (
            f"; it holds GGUF files ({', '.join(types) or 'of unknown type'}): set spec.quantization.ggufType"
            if any(_is_gguf(f) for f in files)
            else "; check the repository"
        )
        raise LoaderError(Reason.NOT_FOUND, f"no model weights (*.safetensors, *.bin) in the source{hint}")
    return sorted(wanted, key=lambda f: f.path)


def _skipped_dir(path: str, consolidated_dirs: set[str]) -> bool:
    parts = PurePosixPath(path).parts
    if any(part.startswith(".") for part in parts):
        return True
    return len(parts) > 1 and (parts[0] in SKIP_DIRS or str(PurePosixPath(path).parent) in consolidated_dirs)


def _is_config(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith("tokenizer") or name.endswith(CONFIG_SUFFIXES)


def _is_consolidated(path: str) -> bool:
    return PurePosixPath(path).name.startswith("consolidated")


def _is_gguf(f: RemoteFile) -> bool:
    return f.path.lower().endswith(".gguf")
