"""Planning (pure): from a ModelDeployment and the pools to a placement decision, now (`plan.py`) and over time
(`over_time.py` with `hysteresis.py`); the pools' free capacity (`capacity.py`); the whole-fleet plan of
`genai-operator plan` (`fleet_report.py`, `usage.py`, `plan_cache.py`); the autoscaler a deployment gets."""
