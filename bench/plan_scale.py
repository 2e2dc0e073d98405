"""Benchmark of offline capacity planning: `plan` of many ModelDeployments onto a large synthetic inventory.

Generates Node objects as `kubectl get nodes -o yaml` prints them (a mix of cloud L4 / A10G / L40S /
A100 / H100 / MI300X nodes of several sizes, time-sliced T4s, KubeEdge Jetson Orin modules, and
CPU-only OpenYurt store node pools, with some unready, cordoned and tainted nodes) and ModelDeployments
(0.5B to 405B models at BF16 / FP8 / INT8 / INT4 / GGUF, with and without placement policies), then
times the planning phases and prints GPUs used against the lower bound.

    python bench/plan_scale.py --models 1000 --nodes 5000 [--replicas-scale 4] [--cli] [--json out.json]

`--replicas-scale` multiplies every model's replicas until the pools run short (pending replicas,
capacity advice, the largest-first second pass). `--cli` also writes the inventory as YAML and as
JSON and times the whole `genai-operator plan` command on each (file parsing included), in this process
and as a new process (interpreter start and imports included: what a user waits for; target 2 s).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.planning.fleet_report import PlanResult, plan_all
from genai_operator.settings import Settings

END_TO_END_TARGET_SECONDS = 2.0  # issue 16: 1,000 models on 5,000 nodes, reading and validation included
GIB_KI = 1024 * 1024  # KiB per GiB, for memory quantities as kubelets print them

# (weight, instance type, GFD product, GFD memory MiB, GPUs per node, memory GiB, cpus, arch)
GPU_SHAPES: list[tuple[int, str, str, int, int, int, int, str]] = [
    (14, "g6.xlarge", "NVIDIA-L4", 23034, 1, 16, 4, "amd64"),
    (16, "g6.12xlarge", "NVIDIA-L4", 23034, 4, 192, 48, "amd64"),
    (4, "g6.48xlarge", "NVIDIA-L4", 23034, 8, 768, 192, "amd64"),
    (6, "g5.12xlarge", "NVIDIA-A10G", 23028, 4, 192, 48, "amd64"),
    (4, "g6e.12xlarge", "NVIDIA-L40S", 46068, 4, 384, 48, "amd64"),
    (8, "p4de.24xlarge", "NVIDIA-A100-SXM4-80GB", 81920, 8, 1152, 96, "amd64"),
    (6, "p5.48xlarge", "NVIDIA-H100-80GB-HBM3", 81559, 8, 2048, 192, "amd64"),
    (2, "ND96isr_MI300X_v5", "AMD_Instinct_MI300X_OAM", 196288, 8, 1850, 96, "amd64"),
    (3, "g4dn.12xlarge", "Tesla-T4-SHARED", 15360, 4, 192, 48, "amd64"),
]
STORES = 150  # OpenYurt node pools of CPU-only store servers


def _node(
    name: str,
    labels: dict[str, str],
    cpus: int,
    memory_gib: int,
    gpus: tuple[str, int] | None,
    *,
    ready: bool = True,
    cordoned: bool = False,
    taints: Sequence[dict[str, str]] = (),
) -> dict[str, Any]:
    allocatable = {"cpu": f"{cpus * 1000 - 200}m", "memory": f"{memory_gib * GIB_KI - 800_000}Ki", "pods": "110"}
    capacity = {"cpu": str(cpus), "memory": f"{memory_gib * GIB_KI}Ki", "pods": "110"}
    if gpus is not None:
        allocatable[gpus[0]] = capacity[gpus[0]] = str(gpus[1])
    spec: dict[str, Any] = {"taints": list(taints)} if taints else {}
    if cordoned:
        spec["unschedulable"] = True
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown"}],
            "nodeInfo": {"architecture": labels.get("kubernetes.io/arch", "amd64")},
        },
    }


def _gpu_node(index: int, rng: random.Random) -> dict[str, Any]:
    _, itype, product, memory, count, mem_gib, cpus, arch = rng.choices(GPU_SHAPES, [s[0] for s in GPU_SHAPES])[0]
    labels = {"kubernetes.io/arch": arch, "node.kubernetes.io/instance-type": itype}
    if product.startswith("AMD"):
        labels |= {"amd.com/gpu.product-name": product, "amd.com/gpu.vram": "192G", "amd.com/gpu.family": "AI"}
        resource, taint_key = "amd.com/gpu", "amd.com/gpu"
    else:
        labels |= {
            "nvidia.com/gpu.product": product,
            "nvidia.com/gpu.memory": str(memory),
            "nvidia.com/gpu.count": str(count),
            "nvidia.com/gpu.present": "true",
        }
        resource, taint_key = "nvidia.com/gpu", "nvidia.com/gpu"
    slices = 1
    if product.endswith("-SHARED"):  # time-slicing: 4 schedulable slices per physical GPU
        slices = 4
        labels |= {"nvidia.com/gpu.replicas": str(slices), "nvidia.com/gpu.sharing-strategy": "time-slicing"}
    roll = rng.random()
    taints = [{"key": taint_key, "value": "present", "effect": "NoSchedule"}]
    if 0.97 <= roll < 0.98:  # reserved for training: a taint no inference pool tolerates
        taints.append({"key": "dedicated", "value": "training", "effect": "NoSchedule"})
    return _node(
        f"gpu-{index:05d}",
        labels,
        cpus,
        mem_gib,
        (resource, count * slices),
        ready=roll < 0.98 or roll >= 0.99,
        cordoned=roll >= 0.995,
        taints=taints,
    )


def _orin_node(index: int, rng: random.Random) -> dict[str, Any]:
    big = rng.random() < 0.6
    labels = {
        "kubernetes.io/arch": "arm64",
        "node-role.kubernetes.io/edge": "",
        "nvidia.com/gpu.product": "Orin",
        "nvidia.com/gpu.memory": "62000" if big else "30536",
        "nvidia.com/gpu.count": "1",
    }
    taints = [{"key": "node-role.kubernetes.io/edge", "effect": "NoSchedule"}]
    return _node(f"orin-{index:05d}", labels, 12, 64 if big else 32, ("nvidia.com/gpu", 1), taints=taints)


def _store_node(index: int, rng: random.Random) -> dict[str, Any]:
    labels = {
        "kubernetes.io/arch": rng.choice(["amd64", "amd64", "arm64"]),
        "openyurt.io/is-edge-worker": "true",
        "apps.openyurt.io/nodepool": f"store-{index % STORES:03d}",
    }
    return _node(f"store-{index:05d}", labels, 8, rng.choice([16, 32, 64]), None, ready=rng.random() > 0.02)


def synthetic_nodes(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` Node objects: about 40% GPU servers, 25% Jetson edge modules, 35% CPU store servers."""
    rng = random.Random(seed)
    makers: list[Callable[[int, random.Random], dict[str, Any]]] = [_gpu_node, _orin_node, _store_node]
    return [rng.choices(makers, [40, 25, 35])[0](i, rng) for i in range(count)]


# (weight, uri, parameters or None, precision, method, gguf type, gpu types)
MODEL_SHAPES: list[tuple[int, str, str | None, str, str, str | None, list[str]]] = [
    (10, "hf://Qwen/Qwen2.5-0.5B-Instruct", None, "BF16", "None", None, []),
    (12, "hf://bartowski/Llama-3.2-3B-Instruct-GGUF", "3.2B", "Auto", "GGUF", "Q4_K_M", []),
    (8, "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF", None, "Auto", "GGUF", "Q4_K_M", []),
    (16, "hf://meta-llama/Llama-3.1-8B-Instruct", None, "BF16", "None", None, ["nvidia-l4"]),
    (8, "hf://Qwen/Qwen2.5-7B-Instruct-AWQ", None, "INT4", "AWQ", None, ["nvidia-l4", "nvidia-a10g"]),
    (8, "hf://Qwen/Qwen2.5-14B-Instruct", None, "Auto", "None", None, ["nvidia-a100-80gb", "nvidia-l4"]),
    (6, "hf://Qwen/Qwen2.5-32B-Instruct", None, "BF16", "None", None, ["nvidia-l40s", "nvidia-a100-80gb"]),
    (6, "hf://meta-llama/Llama-3.1-70B-Instruct", None, "BF16", "None", None, ["nvidia-h100-80gb", "amd-mi300x"]),
    (
        6,
        "hf://hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
        "70.6B",
        "INT4",
        "AWQ",
        None,
        ["nvidia-a100-80gb", "nvidia-h100-80gb"],
    ),
    (6, "hf://mistralai/Mixtral-8x7B-Instruct-v0.1", None, "FP8", "FP8", None, ["nvidia-h100-80gb", "nvidia-l40s"]),
    (4, "hf://google/gemma-2-9b-it", None, "BF16", "None", None, ["nvidia-t4", "nvidia-l4"]),
    (2, "hf://meta-llama/Llama-3.1-405B-Instruct", None, "FP8", "FP8", None, ["nvidia-h100-80gb"]),
    (2, "hf://Qwen/Qwen2.5-72B-Instruct", None, "INT8", "None", None, ["nvidia-a100-80gb"]),
]


def _placement(rng: random.Random, method: str) -> dict[str, Any] | None:
    roll = rng.random()
    if method == "GGUF":
        if roll < 0.5:
            return {"pools": [f"edge-store-{rng.randrange(STORES):03d}-cpu"], "spillover": False}
        return {"tier": "Edge", "strategy": "Spread" if roll < 0.75 else "Ordered"}
    if roll < 0.15:
        return {"tier": "Cloud", "strategy": "Ordered"}
    return None


def synthetic_models(count: int, seed: int = 7, replicas_scale: int = 1) -> list[ModelDeployment]:
    """`count` ModelDeployments; `replicas_scale` multiplies their replicas to put the pools under pressure."""
    rng = random.Random(seed + 1)
    out = []
    for i in range(count):
        _, uri, params, precision, method, gguf, gpu_types = rng.choices(MODEL_SHAPES, [m[0] for m in MODEL_SHAPES])[0]
        model: dict[str, Any] = {"uri": uri}
        if params:
            model["parameters"] = params
        quant: dict[str, Any] = {"precision": precision, "method": method}
        if gguf:
            quant["ggufType"] = gguf
        spec: dict[str, Any] = {
            "model": model,
            "quantization": quant,
            "serving": {"maxContextLength": rng.choice([4096, 8192]), "maxConcurrentSequences": rng.choice([4, 8])},
            "replicas": rng.choice([1, 1, 1, 2, 2, 3, 4]) * replicas_scale,
        }
        if gpu_types:
            spec["resources"] = {"gpu": {"types": gpu_types}}
        placement = _placement(rng, method)
        if placement:
            spec["placement"] = placement
        doc = {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": f"model-{i:04d}", "namespace": f"team-{i % 20:02d}"},
            "spec": spec,
        }
        out.append(ModelDeployment.model_validate(doc))
    return out


def run(models: int, nodes: int, seed: int, replicas_scale: int = 1) -> dict[str, Any]:
    """Generate, then time node projection, pool assembly (discovery + capacity) and planning."""
    node_docs = synthetic_nodes(nodes, seed)
    deployments = synthetic_models(models, seed, replicas_scale)
    started = time.perf_counter()
    views = [node_view(n) for n in node_docs]
    projected = time.perf_counter()
    pools = build_pools([], views)
    assembled = time.perf_counter()
    result: PlanResult = plan_all(deployments, pools, Settings())
    planned = time.perf_counter()
    return {
        "models": models,
        "nodes": nodes,
        "replicasScale": replicas_scale,
        "pools": len(pools or ()),
        "seconds": {
            "nodeView": round(projected - started, 3),
            "buildPools": round(assembled - projected, 3),
            "plan": round(planned - assembled, 3),
            "total": round(planned - started, 3),
        },
        "summary": result.summary.as_dict(),
    }


def run_cli(models: int, nodes: int, seed: int, replicas_scale: int = 1) -> dict[str, float]:
    """Seconds of the whole `genai-operator plan -o json` command, with the inventory as YAML and as JSON
    (`kubectl get nodes -o yaml` / `-o json`); file parsing and validation included."""
    import yaml

    from genai_operator.cli.main import main

    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        inventory = {"apiVersion": "v1", "kind": "List", "items": synthetic_nodes(nodes, seed)}
        (Path(tmp) / "nodes.yaml").write_text(yaml.safe_dump(inventory))
        (Path(tmp) / "nodes.json").write_text(json.dumps(inventory))
        model_file = Path(tmp) / "models.yaml"
        docs = [m.to_dict() for m in synthetic_models(models, seed, replicas_scale)]
        model_file.write_text(yaml.safe_dump_all(docs))
        for kind in ("yaml", "json"):
            out = sys.stdout
            started = time.perf_counter()
            try:
                sys.stdout = open(Path(tmp) / "out.json", "w")  # noqa: SIM115 - closed and restored below
                main(["plan", "-f", str(model_file), "--nodes", str(Path(tmp) / f"nodes.{kind}"), "-o", "json"])
            finally:
                sys.stdout.close()
                sys.stdout = out
            seconds[f"cli{kind.upper()}"] = round(time.perf_counter() - started, 3)
            command = [
                sys.executable,
                "-m",
                "genai_operator",
                "plan",
                "-f",
                str(model_file),
                "--nodes",
                str(Path(tmp) / f"nodes.{kind}"),
                "-o",
                "json",
            ]
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            seconds[f"process{kind.upper()}"] = round(time.perf_counter() - started, 3)
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--replicas-scale", type=int, default=1, help="multiply every model's replicas (pressure)")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--cli", action="store_true", help="also time the whole command on YAML and JSON files")
    args = parser.parse_args(argv)
    figures = run(args.models, args.nodes, args.seed, args.replicas_scale)
    s, summary = figures["seconds"], figures["summary"]
    print(f"{args.models} models (replicas x{args.replicas_scale}) onto {args.nodes} nodes in {figures['pools']} pools")
    print(
        f"  node projection {s['nodeView']:.3f}s, pools {s['buildPools']:.3f}s, plan {s['plan']:.3f}s, "
        f"total {s['total']:.3f}s"
    )
    print(f"  {summary['line']}")
    if args.cli:
        s.update(run_cli(args.models, args.nodes, args.seed, args.replicas_scale))
        print(f"  genai-operator plan, inventory as YAML: {s['cliYAML']:.3f}s, as JSON: {s['cliJSON']:.3f}s")
        target = "met" if max(s["processYAML"], s["processJSON"]) < END_TO_END_TARGET_SECONDS else "missed"
        print(
            f"  as a new process: YAML {s['processYAML']:.3f}s, JSON {s['processJSON']:.3f}s "
            f"(target {END_TO_END_TARGET_SECONDS:.0f}s {target})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
