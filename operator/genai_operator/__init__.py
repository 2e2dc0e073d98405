"""genai-operator: size, place and serve generative-AI models on Kubernetes."""

API_GROUP = "genaiops.dev"
API_VERSION = "v1alpha1"
FIELD_MANAGER = "genai-operator"

__version__ = "0.1.0"
