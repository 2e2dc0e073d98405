"""The `genai-operator` command: `main.py` (run, render, plan, crd, demo), the plan table, the demo."""
