"""genai-model-loader: the init container that fills the model cache of an inference pod.

Stdlib only, so the image is the Python base and this package: `python -m genai_model_loader --plan '<JSON>'`.
See loader/README.md for the plan the operator renders and what each item does.
"""

__version__ = "0.1.0"
