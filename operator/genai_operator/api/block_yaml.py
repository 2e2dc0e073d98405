"""A fast reader for the block-style YAML that `kubectl get -o yaml` and `yaml.safe_dump` print.

libyaml builds a Python object per event through PyYAML's constructor: ~3 s for a 5,000-node inventory
(3 MB) on these machines, more than all of `plan`'s planning. Inventories and generated manifests use a
small part of YAML: block mappings and sequences, one scalar per line, plain or quoted. This reader
handles exactly that part, in one pass over the lines, and resolves plain scalars with PyYAML's own
resolver and constructor (cached per distinct value: inventories repeat most values), so it returns what
`yaml.safe_load_all` returns. Anything else (flow collections, anchors, tags, block or multi-line
scalars, comments after values, tabs, directives) raises `UnsupportedYamlError`, and the caller falls back to
libyaml for that text, so the answer is never a guess.
"""

from __future__ import annotations

from typing import Any

import yaml

_DOCUMENT = "---"
_SPECIAL_START = frozenset("&*!|>%@`{[?#,")
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STR_TAG = "tag:yaml.org,2002:str"
_scalars: dict[str, Any] = {}  # plain scalar text -> its value (all immutable: str, int, float, bool, None, date)


class UnsupportedYamlError(ValueError):
    """The text uses YAML this reader does not handle; read it with libyaml."""


def load_all(text: str) -> list[Any]:
    """Every document of `text`, as `yaml.safe_load_all` would return them; raises UnsupportedYamlError."""
    if "\t" in text or "\n..." in text or text.startswith(("%", "...")):
        raise UnsupportedYamlError("tabs, directives or document end markers")
    documents: list[list[tuple[int, str]]] = [[]]
    started = False
    for raw in text.split("\n"):
        line = raw.rstrip("\r ")
        content = line.lstrip(" ")
        if not content or content[0] == "#":
            continue
        if line.startswith(_DOCUMENT) and (len(line) == 3 or line[3] in " #"):
            if line[3:].strip():
                raise UnsupportedYamlError("content after ---")
            if started or documents[-1]:
                documents.append([])
            started = True
            continue
        documents[-1].append((len(line) - len(content), content))
    return [_document(lines) for lines in documents]


def _document(lines: list[tuple[int, str]]) -> Any:
    if not lines:
        return None
    if lines[0][0] != 0:
        raise UnsupportedYamlError("indented document")
    value, end = _block(lines, 0, 0)
    if end != len(lines):
        raise UnsupportedYamlError("content after the top-level block")
    return value


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    content = lines[i][1]
    if content == "-" or content.startswith("- "):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _after_inline_value(lines: list[tuple[int, str]], i: int, indent: int) -> None:
    """A line deeper than the one just read would continue its scalar over several lines."""
    if i < len(lines) and lines[i][0] > indent:
        raise UnsupportedYamlError("a multi-line scalar")


def _mapping(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    count = len(lines)
    while i < count:
        level, content = lines[i]
        if level < indent:
            break
        if level > indent or content == "-" or content.startswith("- "):
            raise UnsupportedYamlError("unexpected indentation")
        key, rest = _split_key(content)
        i += 1
        if rest:
            out[key] = _scalar(rest)
            _after_inline_value(lines, i, indent)
        elif i < count and lines[i][0] > indent:
            out[key], i = _block(lines, i, lines[i][0])
        elif i < count and lines[i][0] == indent and (lines[i][1] == "-" or lines[i][1].startswith("- ")):
            out[key], i = _sequence(lines, i, indent)  # an indentless sequence, as kubectl prints them
        else:
            out[key] = None
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    count = len(lines)
    while i < count:
        level, content = lines[i]
        if level != indent or not (content == "-" or content.startswith("- ")):
            if level > indent:
                raise UnsupportedYamlError("unexpected indentation")
            break
        rest = content[2:]
        stripped = rest.lstrip(" ")
        if not stripped:
            i += 1
            if i < count and lines[i][0] > indent:
                value, i = _block(lines, i, lines[i][0])
                out.append(value)
            else:
                out.append(None)
            continue
        if stripped[0] == "-" and (stripped == "-" or stripped.startswith("- ")):
            raise UnsupportedYamlError("a nested sequence on one line")
        if _is_mapping_entry(stripped):
            # `- key: value` opens a mapping whose keys sit where `key` starts.
            column = indent + 2 + len(rest) - len(stripped)
            lines[i] = (column, stripped)
            value, i = _mapping(lines, i, column)
            out.append(value)
            continue
        out.append(_scalar(stripped))
        i += 1
        _after_inline_value(lines, i, indent)
    return out, i


def _is_mapping_entry(text: str) -> bool:
    if text[0] in "'\"":
        return False  # a quoted scalar; a quoted key here is rare enough to leave to libyaml
    return ": " in text or text.endswith(":")


def _split_key(content: str) -> tuple[str, str]:
    if content[0] in "'\"":
        raise UnsupportedYamlError("a quoted key")
    if content[0] in _SPECIAL_START:
        raise UnsupportedYamlError("a flow, anchor, tag or complex key")
    colon = content.find(": ")
    if colon < 0:
        if not content.endswith(":"):
            raise UnsupportedYamlError("not a mapping entry")
        key, rest = content[:-1], ""
    else:
        key, rest = content[:colon], content[colon + 2 :].lstrip(" ")
    if key.endswith(" ") or " #" in key:
        raise UnsupportedYamlError("a key with trailing spaces or a comment")
    resolved = _plain(key)
    if not isinstance(resolved, str):
        raise UnsupportedYamlError("a non-string key")
    return resolved, rest


def _scalar(text: str) -> Any:
    first = text[0]
    if first == "'":
        if len(text) < 2 or not text.endswith("'") or "'" in text[1:-1].replace("''", ""):
            raise UnsupportedYamlError("a multi-line or malformed single-quoted scalar")
        return text[1:-1].replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or not text.endswith('"') or '"' in inner or "\\" in inner:
            raise UnsupportedYamlError("an escaped, multi-line or malformed double-quoted scalar")
        return inner
    if text in ("{}", "[]"):
        return {} if text == "{}" else []
    if first in _SPECIAL_START or (first == "-" and text.startswith("- ")) or " #" in text or ": " in text:
        raise UnsupportedYamlError("a flow collection, anchor, tag, block scalar or comment")
    return _plain(text)


def _plain(text: str) -> Any:
    try:
        return _scalars[text]
    except KeyError:
        pass
    tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    value = text if tag == _STR_TAG else _CONSTRUCTOR.construct_object(yaml.ScalarNode(tag, text))
    if len(_scalars) < 1_000_000:
        _scalars[text] = value
    return value
