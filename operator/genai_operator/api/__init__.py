"""The v1alpha1 API: pydantic models that generate the CRDs and validate manifests."""
