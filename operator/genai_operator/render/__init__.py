"""Pure builders of the child objects of a ModelDeployment, one module per kind; plain dicts out."""

from genai_operator.render.bundle import render_children

__all__ = ["render_children"]
