"""A replica larger than one node: a group of nodes, tensor parallel within a node, pipeline parallel across.

vLLM's advice for a model no node holds is the layout used here: tensor parallel size = the GPUs of one
node (NVLink inside the node carries the all-reduces of every layer), pipeline parallel size = the
number of nodes (only activations cross the slower network, once per stage). The tensor-parallel size
must still divide the attention heads (fitting.heads_problem), so a node whose GPU count does not
divide them runs fewer ranks than it has GPUs. The node count is the smallest that fits, at the
highest precision that fits, up to the nodes the pool has.

Only vLLM is sized this way: it runs multi-node with its own multiprocessing executor (no Ray), which
render/leaderworkerset.py starts on each node of a LeaderWorkerSet group.
"""

from __future__ import annotations

from dataclasses import replace

from genai_operator.api.enums import Engine, Precision
from genai_operator.sizing.estimator import with_capacity
from genai_operator.sizing.fitting import GPU_COUNTS, heads_problem
from genai_operator.sizing.memory import estimate_memory, model_shape, per_device_bytes
from genai_operator.sizing.overhead import gpu_budget_bytes
from genai_operator.sizing.quantization import QuantizationError, candidate_precisions
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest

# Pipeline stages beyond this cost more in bubbles and hops than they give; such models want FP8 or
# larger GPUs. Also the bound when the pool's node count is not known.
MAX_NODES = 4
GROUP_ENGINES = (Engine.VLLM,)


def tensor_parallel_per_node(request: SizingRequest, gpus_per_node: int) -> tuple[int, str]:
    """The largest tensor-parallel size a node of `gpus_per_node` GPUs can run, or why none."""
    shape = model_shape(request)
    problems = []
    for count in sorted((c for c in GPU_COUNTS if c <= gpus_per_node), reverse=True):
        problem = heads_problem(shape, count)
        if not problem:
            return count, ""
        problems.append(problem)
    return 0, "; ".join(problems) or f"nodes of {gpus_per_node} GPUs"


def size_group(
    request: SizingRequest, gpu: GpuType, gpus_per_node: int, max_nodes: int = MAX_NODES
) -> SizingDecision | str:
    """The smallest group of nodes (2 or more) that holds one replica, or why there is none."""
    if request.engine not in GROUP_ENGINES:
        return f"a replica larger than one node runs only on vLLM, not {request.engine.value}"
    if request.gpu_count is not None:
        return "spec.resources.gpu.count is set: multi-node groups are sized only with gpu.count Auto"
    if gpu.unified_memory:
        return f"{gpu.name} modules are not grouped across nodes"
    tensor_parallel, problem = tensor_parallel_per_node(request, gpus_per_node)
    if not tensor_parallel:
        return f"no tensor-parallel size fits a node of {gpus_per_node} GPUs ({problem})"
    layers = model_shape(request).layers
    budget = gpu_budget_bytes(gpu, request.engine, request.gpu_memory_utilization_percent)
    nodes_cap = min(max_nodes, layers)
    for precision in candidate_precisions(request):
        if precision is Precision.FP8 and not gpu.supports_fp8:
            continue
        for nodes in range(2, nodes_cap + 1):
            devices = tensor_parallel * nodes
            try:
                estimate = estimate_memory(request, precision, devices, gpu, stages=nodes)
            except QuantizationError:
                break
            if per_device_bytes(estimate, devices) <= budget:
                fitted = SizingDecision(True, estimate, gpu, tensor_parallel, tensor_parallel, nodes=nodes)
                return with_capacity(request, estimate, budget * devices, fitted)
    return (
        f"not even {nodes_cap} nodes of {tensor_parallel}x {gpu.name} hold one replica "
        f"(tensor parallel {tensor_parallel} per node, pipeline parallel across nodes)"
    )


def as_group(request: SizingRequest) -> SizingRequest:
    """The request as group sizing reads it (engine Auto is vLLM on GPUs)."""
    return replace(request, engine=Engine.VLLM) if request.engine is Engine.AUTO else request
