"""`ClusterEmulator`: kmock's KubernetesEmulator with the fidelity an operator needs.

kmock keeps serving discovery (`/api`, `/apis/...`) and user-defined DSL reactions; resource
URLs are served by this package's store, which adds the API machinery kmock leaves out.
"""

from __future__ import annotations

import builtins
import collections
import copy
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal.rendering import ReactionMismatchError  # not in kmock.__all__

from genai_emulator import errors
from genai_emulator.api import HttpApi, error_answer
from genai_emulator.controller import WorkloadController
from genai_emulator.crds import is_crd, iter_yaml_documents
from genai_emulator.fault_controls import FaultControls
from genai_emulator.faults import FaultInjector
from genai_emulator.init_containers import KubeletFaults
from genai_emulator.inspection import Inspection
from genai_emulator.operations import Store
from genai_emulator.pod_proxy import PodProxy, is_pod_proxy
from genai_emulator.resources import Registry, ResourceSpec, default_resources
from genai_emulator.routing import RequestRecord, Target, parse_target, verb_of
from genai_emulator.selectors import match_labels, parse_label_selector
from genai_emulator.standby_controls import StandbyControls

logger = logging.getLogger(__name__)

VERBS = frozenset({"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"})
_ACTIONS = {
    "list": kmock.action.LIST,
    "watch": kmock.action.WATCH,
    "get": kmock.action.FETCH,
    "create": kmock.action.CREATE,
    "patch": kmock.action.UPDATE,
    "delete": kmock.action.DELETE,
}


@attrs.define(kw_only=True)
class ClusterEmulator(FaultControls, Inspection, StandbyControls, kmock.KubernetesEmulator):
    """The handler behind :class:`EmulatedCluster`; usable directly with any aiohttp server.

    Options: `with_keda` / `with_prometheus_operator` serve those CRD groups; `genai_served` serves
    genaiops.dev before its CRDs are installed (False: only once they are, as a real API server does);
    `strict_namespaces` answers 404 for writes into a missing namespace (by default it is created on the fly);
    `simulate_workloads` runs the deployment controller and scheduler, whose pods turn Ready
    `ready_delay` seconds after binding. Must be entered (`async with`) on the serving loop.
    """

    with_keda: bool = False
    with_prometheus_operator: bool = False
    genai_served: bool = True
    strict_namespaces: bool = False
    simulate_workloads: bool = True
    ready_delay: float = 0.0
    history_limit: int = 8
    event_capacity: int = 20_000  # per resource; older resourceVersions answer 410 Expired
    record_limit: int = 100_000

    registry: Registry = attrs.field(init=False)
    store: Store = attrs.field(init=False)
    faults: FaultInjector = attrs.field(init=False, factory=FaultInjector)
    kubelet_faults: KubeletFaults = attrs.field(init=False, factory=KubeletFaults)
    controller: WorkloadController | None = attrs.field(init=False, default=None)
    pod_proxy: PodProxy = attrs.field(init=False)  # sleep-mode endpoints of emulated vLLM pods
    _http: HttpApi = attrs.field(init=False)
    _records: collections.deque[RequestRecord] = attrs.field(init=False)
    _request_ids: int = attrs.field(init=False, default=0)
    # A reaction's priorities, by id (with the reaction, so a reused id cannot match): they are fixed once
    # declared, and walking every reaction's DSL chain on every request was 4% of the emulator's CPU in bench/.
    _priorities: dict[int, tuple[Any, tuple[float, ...]]] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.registry = Registry(
            default_resources(
                with_keda=self.with_keda,
                with_prometheus_operator=self.with_prometheus_operator,
                with_genai=self.genai_served,
            )
        )
        self.store = Store(
            self.registry,
            self.objects,
            history_limit=self.history_limit,
            event_capacity=self.event_capacity,
            strict_namespaces=self.strict_namespaces,
        )
        self.store.on_registry_change = self._declare_resources
        self._http, self.pod_proxy = HttpApi(self.store), PodProxy(self.store)
        self._records = collections.deque(maxlen=self.record_limit)
        self._declare_resources()
        namespaces = self.registry.resolve("v1/namespaces")
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create(namespaces, None, {"metadata": {"name": name}})

    async def __aenter__(self) -> ClusterEmulator:
        await super().__aenter__()
        if self.simulate_workloads and self.controller is None:
            self.controller = WorkloadController(
                self.store, ready_delay=self.ready_delay, kubelet_faults=self.kubelet_faults
            )
            self.controller.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.controller is not None:
            await self.controller.stop()
            self.controller = None
        self.drop_watches()
        await super().__aexit__(exc_type, exc, tb)

    # -- serving HTTP -------------------------------------------------------------------------

    async def __call__(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        body = await raw.read()
        target = parse_target(raw.path)
        record = self._record(raw, target)
        response: aiohttp.web.StreamResponse
        try:
            injected = self.faults.take(record)
            if injected is not None:
                response = error_answer(errors.injected(injected))
            elif target is not None and is_pod_proxy(target):
                response = self.pod_proxy.serve(raw.method.upper(), target, dict(raw.query))
            elif target is not None and target.plural is not None:
                response = await self._user_reaction(raw, target, record, body) or await self._http.serve(
                    raw, target, body
                )
            else:
                kreq = self._kmock_request(raw, target, record, body)
                response = await super(kmock.KubernetesEmulator, self)._handle(kreq)
        except Exception as exc:  # answer like an apiserver would, and keep serving
            if isinstance(exc, kmock.KubernetesError):
                logger.debug("Request %s %s failed: %r", raw.method, raw.path_qs, exc)
            else:  # an emulator bug or a broken user reaction: make it visible
                logger.exception("Request %s %s failed", raw.method, raw.path_qs)
            response = await self._render_error(exc)
        record.status = response.status
        return response

    def _record(self, raw: aiohttp.web.BaseRequest, target: Target | None) -> RequestRecord:
        self._request_ids += 1
        params = dict(raw.query)
        spec = (
            self.registry.lookup(target.group, target.version, target.plural)
            if target is not None and target.plural
            else None
        )
        record = RequestRecord(
            id=self._request_ids,
            method=raw.method.upper(),
            verb=verb_of(raw.method.upper(), target, params),
            path=raw.path,
            group=target.group if target else None,
            version=target.version if target else None,
            resource=target.plural if target else None,
            kind=spec.kind if spec else None,
            namespace=target.namespace if target else None,
            name=target.name if target else None,
            subresource=(target.subresource or "").split("/")[0] or None if target else None,  # RBAC's: pods/proxy
            params=params,
            content_type=raw.headers.get("Content-Type"),
        )
        self._records.append(record)
        return record

    def _kmock_request(
        self, raw: aiohttp.web.BaseRequest, target: Target | None, record: RequestRecord, body: bytes
    ) -> kmock.Request:
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        resource = (
            kmock.resource(group=target.group, version=target.version, plural=target.plural)
            if target is not None
            else None
        )
        # Clients ask for `/api/v1/`; kmock's discovery routes match paths without the slash.
        url = raw.url.with_path(raw.path.rstrip("/") or "/")
        request = kmock.Request(
            id=record.id,
            raw_request=raw,
            url=url,
            method=raw.method,
            params=record.params,
            headers=dict(raw.headers),
            cookies=dict(raw.cookies),
            body=body,
            text=body.decode("utf-8", errors="replace"),
            data=data,
            action=_ACTIONS.get(record.verb) if record.resource else None,
            resource=resource,
            namespace=record.namespace,
            name=record.name,
            subresource=record.subresource,
        )
        # kmock matches a reaction by finding the request among the view's recorded requests.
        self._requests.append(request)
        return request

    async def _user_reaction(
        self, raw: aiohttp.web.BaseRequest, target: Target, record: RequestRecord, body: bytes
    ) -> aiohttp.web.StreamResponse | None:
        """kmock DSL reactions (`emulator['get /api/v1/pods'] << 500`) win over the store."""
        reactions = [p for p in self._payloads if not ((ps := self._priorities_of(p)) and ps[0] == -math.inf)]
        if not reactions:
            return None
        kreq = self._kmock_request(raw, target, record, body)
        reactions.sort(key=lambda p: tuple(-x for x in self._priorities_of(p)))
        for reaction in reactions:
            if kreq in reaction._source and not reaction._disabled.is_set():
                try:
                    response: aiohttp.web.StreamResponse = await reaction(kreq)
                    return response
                except ReactionMismatchError:
                    reaction._disabled.set()
                except NotImplementedError:
                    pass
        return None

    def _priorities_of(self, reaction: Any) -> tuple[float, ...]:
        cached = self._priorities.get(id(reaction))
        if cached is None or cached[0] is not reaction:
            cached = self._priorities[id(reaction)] = (reaction, tuple(reaction.priorities))
        return cached[1]

    def _declare_resources(self) -> None:
        """Mirror the registry into kmock's discovery (`/apis/<group>/<version>`)."""
        wanted = {kmock.resource(s.group, s.version, s.plural): s for s in self.registry}
        for key in builtins.list(self.resources):
            if key not in wanted:
                del self.resources[key]
        for key, spec in wanted.items():
            self.resources[key] = kmock.ResourceInfo(
                kind=spec.kind,
                namespaced=spec.namespaced,
                singular=spec.singular,
                verbs=VERBS,
                shortnames=spec.shortnames,
                categories=spec.categories,
                subresources=spec.subresources,
            )

    # -- the public helpers -------------------------------------------------------------------

    def declare(self, spec: ResourceSpec) -> None:
        """Serve one more resource (for CRD-less custom resources)."""
        self.registry.add(spec)
        self._declare_resources()

    def install_crds(
        self, sources: Iterable[str | os.PathLike[str] | Mapping[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        """Create or update the CRDs (YAML files, directories of them, or CRD dicts); serve them."""
        docs: builtins.list[Mapping[str, Any]] = []
        for source in sources:
            docs.extend([source] if isinstance(source, Mapping) else iter_yaml_documents([source]))
        installed = []
        for doc in docs:
            if is_crd(doc):
                installed.append(self.store.apply(doc))
            else:
                logger.warning(
                    "Skipping a non-CRD document: %s/%s", doc.get("kind"), (doc.get("metadata") or {}).get("name")
                )
        return [copy.deepcopy(obj) for obj in installed]

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or replace an object in-process (status is written as given)."""
        return copy.deepcopy(self.store.apply(obj))

    def get_object(self, resource: str | ResourceSpec, namespace: str | None, name: str) -> dict[str, Any] | None:
        obj = self.store.get(self.registry.resolve(resource), namespace, name)
        return copy.deepcopy(obj) if obj is not None else None

    def list_objects(
        self, resource: str | ResourceSpec, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        requirements = parse_label_selector(label_selector)
        return [
            copy.deepcopy(obj)
            for obj in self.store.items(self.registry.resolve(resource), namespace)
            if match_labels(requirements, obj["metadata"].get("labels"))
        ]

    def delete_object(
        self, resource: str | ResourceSpec, namespace: str | None, name: str, *, propagation: str | None = None
    ) -> None:
        self.store.delete(self.registry.resolve(resource), namespace, name, propagation=propagation)

    def add_nodes(self, nodes: Iterable[Mapping[str, Any]]) -> builtins.list[dict[str, Any]]:
        return [self.apply({"apiVersion": "v1", "kind": "Node", **node}) for node in nodes]
