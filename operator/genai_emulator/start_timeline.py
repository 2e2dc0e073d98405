"""When a started pod's containers ran, as the kubelet reports them: a believable cold start.

The emulator starts a bound pod at once, or `ready_delay` seconds after it was bound. The span from the pod's
creation to that start stands for what a real pod spends before it serves: it is split evenly between the init
containers, one after the other (the model loader's download), and the serving container (loading the model until
its readiness probe passes). So the reported times are ordered as a kubelet's are, and an operator reading them
(its cold-start accounting) sees non-zero download and load times whenever the emulator is given a ready delay.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


def timeline(pod: Mapping[str, Any], init_containers: int, now: str) -> tuple[list[tuple[str, str]], str]:
    """((startedAt, finishedAt) of each init container, the serving containers' startedAt), ending at `now`."""
    end = _parse(now)
    created = (pod.get("metadata") or {}).get("creationTimestamp")
    begin = min(_parse(created), end) if created else end
    step = (end - begin) / (init_containers + 1)
    runs = [(_format(begin + index * step), _format(begin + (index + 1) * step)) for index in range(init_containers)]
    return runs, _format(begin + init_containers * step)


def _parse(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _format(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(_SECONDS)
