"""The controller: where the operator meets the cluster.

Kopf is a thin watch layer here (`kopf_handlers.py`: indexes of nodes and PlacementPools, and events that
enqueue a ModelDeployment); `kopf_setup.py` configures Kopf and starts it. The work runs in our own
client-go-style loop: `workqueue.py` (keyed, deduplicated, with backoff), `informers.py` (list-and-watch
indexes of children and pods), `reconciler.py` (one pass: plan, diff, act, write status), `runtime.py` (what
lives for one process), `leadership.py` (run only while holding the lease) and `metrics.py`.
"""
