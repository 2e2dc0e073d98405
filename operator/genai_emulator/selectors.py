"""Label and field selectors, in both their query-string and their object forms."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# A value matcher for one key: (present, value) -> bool.
Matcher = Callable[[bool, str], bool]

_EQUALITY = re.compile(r"^\s*(?P<key>[^!=<>\s]+)\s*(?P<op>==|!=|=|<|>)\s*(?P<value>[^\s,]*)\s*$")
_SET = re.compile(r"^\s*(?P<key>[^!=<>\s]+)\s+(?P<op>in|notin)\s*\((?P<values>[^)]*)\)\s*$")
_EXISTS = re.compile(r"^\s*(?P<neg>!?)\s*(?P<key>[^!=<>\s(),]+)\s*$")


class SelectorError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In, NotIn, Exists, DoesNotExist, Gt, Lt
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = str(labels.get(self.key, ""))
        match self.operator:
            case "In":
                return present and value in self.values
            case "NotIn":
                return not present or value not in self.values
            case "Exists":
                return present
            case "DoesNotExist":
                return not present
            case "Gt" | "Lt":
                try:
                    number, limit = float(value), float(self.values[0])
                except (ValueError, IndexError):
                    return False
                return present and (number > limit if self.operator == "Gt" else number < limit)
        raise SelectorError(f"unknown operator {self.operator!r}")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside the parentheses of a set-based term."""
    terms, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [term for term in terms if term.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3` as Kubernetes does."""
    requirements: list[Requirement] = []
    for term in _split_terms(text or ""):
        if m := _SET.match(term):
            values = tuple(v.strip() for v in m["values"].split(",") if v.strip())
            requirements.append(Requirement(m["key"], "In" if m["op"] == "in" else "NotIn", values))
        elif m := _EQUALITY.match(term):
            op = {"=": "In", "==": "In", "!=": "NotIn", ">": "Gt", "<": "Lt"}[m["op"]]
            requirements.append(Requirement(m["key"], op, (m["value"],)))
        elif m := _EXISTS.match(term):
            requirements.append(Requirement(m["key"], "DoesNotExist" if m["neg"] else "Exists"))
        else:
            raise SelectorError(f"unable to parse requirement: {term.strip()!r}")
    return requirements


def requirements_from_selector(selector: Mapping[str, Any] | None) -> list[Requirement]:
    """The object form: `{matchLabels: {...}, matchExpressions: [...]}`."""
    selector = selector or {}
    requirements = [Requirement(k, "In", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    for expr in selector.get("matchExpressions") or []:
        requirements.append(
            Requirement(
                str(expr.get("key", "")),
                str(expr.get("operator", "In")),
                tuple(str(v) for v in expr.get("values") or ()),
            )
        )
    return requirements


def selector_to_string(selector: Mapping[str, Any] | None) -> str:
    """Render a LabelSelector as the query string the /scale subresource reports."""
    parts: list[str] = []
    for req in requirements_from_selector(selector):
        match req.operator:
            case "In" if len(req.values) == 1:
                parts.append(f"{req.key}={req.values[0]}")
            case "In" | "NotIn":
                parts.append(f"{req.key} {req.operator.lower()} ({','.join(sorted(req.values))})")
            case "Exists":
                parts.append(req.key)
            case "DoesNotExist":
                parts.append(f"!{req.key}")
    return ",".join(parts)


def match_labels(requirements: Sequence[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(req.matches(labels) for req in requirements)


@dataclasses.dataclass(frozen=True)
class FieldRequirement:
    path: tuple[str, ...]
    value: str
    negated: bool

    def matches(self, obj: Mapping[str, Any]) -> bool:
        current: Any = obj
        for part in self.path:
            current = current.get(part) if isinstance(current, Mapping) else None
        if isinstance(current, bool):
            current = str(current).lower()  # JSON spelling: true/false
        actual = "" if current is None else str(current)
        return (actual != self.value) if self.negated else (actual == self.value)


def parse_field_selector(text: str | None) -> list[FieldRequirement]:
    """`metadata.name=x,metadata.namespace!=y` (any dotted path; Kubernetes allows fewer)."""
    requirements: list[FieldRequirement] = []
    for term in _split_terms(text or ""):
        m = _EQUALITY.match(term)
        if m is None or m["op"] in ("<", ">"):
            raise SelectorError(f"invalid field selector: {term.strip()!r}")
        requirements.append(FieldRequirement(tuple(m["key"].split(".")), m["value"], m["op"] == "!="))
    return requirements


def match_fields(requirements: Sequence[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(req.matches(obj) for req in requirements)
