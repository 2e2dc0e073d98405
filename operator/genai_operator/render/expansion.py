"""Container strings the kubelet must not expand: `$(NAME)` in command, args and env values.

The kubelet replaces `$(NAME)` in a container's command, args and env values with the container's
environment variable NAME, and `$$` with `$`. Every string rendered there may carry user input (model
and adapter URIs in the loader's plan, extraArgs, paths, names), and the loader's environment holds the
credentials Secret's keys: `s3://x/$(AWS_SECRET_ACCESS_KEY)` would hand the secret to the loader, whose
error message the operator copies into a condition and an Event that anyone with `view` reads. So every
`$` becomes `$$`, which the kubelet turns back into the literal `$`; the operator never relies on
expansion itself.
"""

from __future__ import annotations

from typing import Any


def escape(value: str) -> str:
    return value.replace("$", "$$")


def escape_container(container: dict[str, Any]) -> dict[str, Any]:
    """A copy of the container whose command, args and env values arrive literally."""
    out = dict(container)
    for field in ("command", "args"):
        if field in out:
            out[field] = [escape(str(item)) for item in out[field]]
    if "env" in out:
        out["env"] = [{**e, "value": escape(str(e["value"]))} if "value" in e else dict(e) for e in out["env"]]
    return out
