"""Fault injection: make the next N matching API requests fail the way a real apiserver can."""

from __future__ import annotations

import dataclasses

from genai_emulator.routing import RequestRecord


@dataclasses.dataclass
class FaultRule:
    remaining: int
    status: int
    method: str | None = None  # an HTTP method or a Kubernetes verb
    resource: str | None = None
    namespace: str | None = None
    name: str | None = None

    def matches(self, record: RequestRecord) -> bool:
        return record.resource is not None and record.matches(
            verb=self.method, resource=self.resource, namespace=self.namespace, name=self.name
        )


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self._rules.append(rule)
        return rule

    def clear(self) -> None:
        self._rules.clear()

    def take(self, record: RequestRecord) -> int | None:
        """Consume one use of the first matching rule; the HTTP status to answer, if any."""
        for rule in self._rules:
            if rule.remaining > 0 and rule.matches(record):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule.status
        return None
