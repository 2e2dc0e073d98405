"""Init containers as the kubelet reports them, and the faults tests inject into them.

A pod with `initContainers` runs them in order before its containers. By default each one
completes at once (exit 0, reason Completed). A fail rule makes one of them exit non-zero and
back off (CrashLoopBackOff, or a Failed pod with restartPolicy Never); a hold rule keeps one
running, which is how a model loader that is still downloading looks. Rules apply to matching
pods that exist and to future ones; clearing them lets those pods start normally.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from genai_emulator.selectors import Requirement, match_labels, parse_label_selector
from genai_emulator.start_timeline import timeline
from genai_emulator.workloads import condition, container_id, running_status

Body = dict[str, Any]
# What the kubelet shows for a pod's init containers: ('ok',), ('hold', container) or
# ('fail', container, exitCode, reason, message). Equal outcomes mean nothing to rewrite.
Outcome = tuple[Any, ...]
OK: Outcome = ("ok",)

_SELECTOR_MARKS = ("=", "!", "(")


@dataclasses.dataclass
class InitRule:
    """Which pods (namespace; a pod-name prefix or a label selector) and which init container."""

    kind: Literal["fail", "hold"]
    namespace: str | None
    match: str = ""
    container: str | None = None  # None: any init container (the first one that runs)
    exit_code: int = 1
    reason: str = "Error"
    message: str = ""
    _selector: list[Requirement] | None = dataclasses.field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        # A label selector always has an operator (`a=b`, `a!=b`, `a in (b)`); a name prefix never does.
        if any(mark in self.match for mark in _SELECTOR_MARKS):
            self._selector = parse_label_selector(self.match)

    def selects(self, pod: Mapping[str, Any], container: str) -> bool:
        meta = pod.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        if self.container is not None and self.container != container:
            return False
        if self._selector is not None:
            return match_labels(self._selector, meta.get("labels"))
        return str(meta.get("name", "")).startswith(self.match)


class KubeletFaults:
    """The init-container rules of one cluster; listeners hear about every change."""

    def __init__(self) -> None:
        self._rules: list[InitRule] = []
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def add(self, rule: InitRule) -> InitRule:
        self._rules.append(rule)
        self._changed()
        return rule

    def remove(self, rule: InitRule) -> None:
        if rule in self._rules:
            self._rules.remove(rule)
            self._changed()

    def clear(self, kind: Literal["fail", "hold"] | None = None) -> None:
        self._rules = [rule for rule in self._rules if kind is not None and rule.kind != kind]
        self._changed()

    @property
    def rules(self) -> list[InitRule]:
        return list(self._rules)

    def outcome(self, pod: Mapping[str, Any]) -> Outcome:
        """The first init container (in order) that a rule fails or holds decides the pod's state."""
        for container in init_containers(pod):
            name = str(container.get("name"))
            for rule in self._rules:  # the oldest rule wins, so adding one never flips an earlier fault
                if rule.selects(pod, name):
                    if rule.kind == "fail":
                        return ("fail", name, rule.exit_code, rule.reason, rule.message)
                    return ("hold", name)
        return OK

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()


def init_containers(pod: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return list((pod.get("spec") or {}).get("initContainers") or [])


def observed_outcome(pod: Mapping[str, Any]) -> Outcome | None:
    """What the pod's status shows now; None before the kubelet started it."""
    status = pod.get("status") or {}
    if not status.get("startTime"):
        return None
    for item in status.get("initContainerStatuses") or []:
        state = item.get("state") or {}
        if state.get("running"):
            return ("hold", item.get("name"))
        if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
            terminated = (item.get("lastState") or {}).get("terminated") or {}
        elif ((state.get("terminated") or {}).get("exitCode") or 0) != 0:  # restartPolicy Never
            terminated = state["terminated"]
        else:
            continue  # completed, or waiting behind another one
        return (
            "fail",
            item.get("name"),
            terminated.get("exitCode"),
            terminated.get("reason"),
            terminated.get("message", ""),
        )
    return OK if status.get("phase") == "Running" else None


def started_status(pod: Mapping[str, Any], outcome: Outcome, *, host_ip: str, pod_ip: str, now: str) -> Body:
    """The pod status once the kubelet has started it, given the init containers' outcome."""
    previous = pod.get("status") or {}
    # Restart counts and the last termination survive restarts, as the kubelet keeps them per container.
    before = {str(s.get("name")): s for s in previous.get("initContainerStatuses") or []}
    inits = init_containers(pod)
    if outcome == OK:
        status = running_status(pod, host_ip, pod_ip, now=now, start_time=previous.get("startTime"))
        runs, serving_since = timeline(pod, len(inits), now)
        if inits:
            status["initContainerStatuses"] = [
                _completed(c, before, pod_ip, finished, started)
                for c, (started, finished) in zip(inits, runs, strict=True)
            ]
        for item in status["containerStatuses"]:
            item["state"]["running"]["startedAt"] = serving_since
        for cond in status["conditions"]:
            if cond["type"] == "Initialized":
                cond["lastTransitionTime"] = serving_since
        return status
    names = [str(c.get("name")) for c in inits]
    stuck = names.index(outcome[1])
    never = (pod.get("spec") or {}).get("restartPolicy") == "Never"
    statuses = [_completed(c, before, pod_ip, now) for c in inits[:stuck]]
    statuses.append(_stuck(pod, inits[stuck], outcome, before, pod_ip, now, never=never))
    statuses += [_waiting(c, before, "PodInitializing") for c in inits[stuck + 1 :]]
    containers = (pod.get("spec") or {}).get("containers") or []
    unready = f"containers with unready status: [{' '.join(str(c.get('name')) for c in containers)}]"
    return {
        "phase": "Failed" if never and outcome[0] == "fail" else "Pending",
        "conditions": [
            condition(
                "Initialized",
                "False",
                now,
                "ContainersNotInitialized",
                f"containers with incomplete status: [{' '.join(names[stuck:])}]",
            ),
            condition("Ready", "False", now, "ContainersNotReady", unready),
            condition("ContainersReady", "False", now, "ContainersNotReady", unready),
            condition("PodScheduled", "True", now),
        ],
        "hostIP": host_ip,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": previous.get("startTime") or now,
        "qosClass": previous.get("qosClass", "BestEffort"),
        "initContainerStatuses": statuses,
        "containerStatuses": [_waiting(c, {}, "PodInitializing") for c in containers],
    }


Previous = Mapping[str, Mapping[str, Any]]  # the last reported status of each init container, by name


def _base(container: Mapping[str, Any], previous: Previous) -> Body:
    before = previous.get(str(container.get("name"))) or {}
    return {
        "name": container.get("name"),
        "image": container.get("image"),
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": int(before.get("restartCount") or 0),
        "lastState": dict(before.get("lastState") or {}),
    }


def _completed(
    container: Mapping[str, Any], previous: Previous, pod_ip: str, now: str, started: str | None = None
) -> Body:
    """Completed at `now`, having run since `started` (default: now)."""
    cid = container_id(str(container.get("name")), now, pod_ip)
    # A finished init container is ready (its work is done) and not started (it no longer runs).
    return {
        **_base(container, previous),
        "ready": True,
        "containerID": cid,
        "state": {
            "terminated": {
                "exitCode": 0,
                "reason": "Completed",
                "startedAt": started or now,
                "finishedAt": now,
                "containerID": cid,
            }
        },
    }


def _waiting(container: Mapping[str, Any], previous: Previous, reason: str, message: str | None = None) -> Body:
    waiting = {"reason": reason} if message is None else {"reason": reason, "message": message}
    return {**_base(container, previous), "state": {"waiting": waiting}}


def _stuck(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    outcome: Outcome,
    previous: Previous,
    pod_ip: str,
    now: str,
    *,
    never: bool,
) -> Body:
    name = str(container.get("name"))
    cid = container_id(name, now, pod_ip)
    if outcome[0] == "hold":
        return {
            **_base(container, previous),
            "started": True,
            "containerID": cid,
            "state": {"running": {"startedAt": now}},
        }
    terminated = {"exitCode": outcome[2], "reason": outcome[3], "startedAt": now, "finishedAt": now, "containerID": cid}
    if outcome[4]:
        terminated["message"] = outcome[4]
    if never:  # no restart: the container stays terminated and the pod fails
        return {**_base(container, previous), "containerID": cid, "state": {"terminated": terminated}}
    meta = pod.get("metadata") or {}
    backoff = (
        f"back-off 10s restarting failed container={name} "
        f"pod={meta.get('name')}_{meta.get('namespace')}({meta.get('uid')})"
    )
    status = _waiting(container, previous, "CrashLoopBackOff", backoff)
    return {
        **status,
        "restartCount": status["restartCount"] + 1,
        "containerID": cid,
        "lastState": {"terminated": terminated},
    }
