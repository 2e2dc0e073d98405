"""The kubelet's `$(VAR)` expansion of container command, args and env values, ported line for line from
Kubernetes' third_party/forked/golang/expansion/expand.go (Expand, tryReadVariableName, MappingFuncFor):
`$(NAME)` becomes NAME's value (left as written when NAME is undefined), `$$` becomes `$`, any other `$`
stays. Tests use it to show that what the operator renders reaches the process literally."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

OPERATOR, OPENER, CLOSER = "$", "(", ")"


def expand(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == OPERATOR and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            read, is_var, advance = _read_variable_name(text[cursor + 1 :])
            out.append(env.get(read, f"$({read})") if is_var else read)
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def _read_variable_name(text: str) -> tuple[str, bool, int]:
    if text[0] == OPERATOR:  # an escaped operator
        return text[0], False, 1
    if text[0] == OPENER:
        for i in range(1, len(text)):
            if text[i] == CLOSER:
                return text[1:i], True, i + 1
        return OPERATOR + OPENER, False, 1  # an incomplete reference is kept
    return OPERATOR + text[0], False, 1


def expand_container(container: Mapping[str, Any], secrets: Mapping[str, str]) -> dict[str, Any]:
    """What the process sees: env values expanded in order (earlier variables only), then command and args
    against the whole environment. `secrets` stands for what envFrom and secretKeyRef put there."""
    env: dict[str, str] = dict(secrets)
    for item in container.get("env") or []:
        env[item["name"]] = expand(item["value"], env) if "value" in item else secrets.get(item["name"], "")
    return {
        "command": [expand(c, env) for c in container.get("command") or []],
        "args": [expand(a, env) for a in container.get("args") or []],
        "env": env,
    }
