"""The keys of one `genai-operator plan -o json` entry: DESIGN.md section 5's list and the additions since, each
said once for every test that checks the contract."""

PLAN_JSON_KEYS = frozenset(
    {
        "name",
        "namespace",
        "task",  # TextGeneration, TextEmbedding or Reranking
        "engine",
        "precision",
        "weightsBytes",
        "kvCacheBytes",
        "totalBytesPerReplica",
        "gpuType",
        "gpusPerReplica",
        "tensorParallel",
        "placement",
        "fits",
        "reasons",
        "kvCacheTokens",  # what the chosen GPUs give (issue 16)
        "fullContextSequences",
        "gpusPerNode",  # multi-node replicas (issue 19): 1, 1 and gpusPerReplica for a replica on one node
        "nodesPerReplica",
        "pipelineParallel",
        "slice",  # MIG slices (issue 19): profile, resource or deviceClassName, memoryBytes, pool slices used/total
        "standbyHostBytes",  # warm standby (issue 20): the weights a sleeping replica keeps in CPU memory, else null
    }
)
