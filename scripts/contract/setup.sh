#!/usr/bin/env bash
# Installs what the contract tests run: the pinned Python packages into .venv-contract
# (git-ignored), Debian's PostgreSQL server when it is missing, and the local kube-apiserver
# (scripts/local-apiserver.sh). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "contract setup: installing Debian's postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  # The package starts a cluster on the default port; the tests run their own on 127.0.0.1.
  service postgresql stop >/dev/null 2>&1 || true
fi

# A real kube-apiserver, etcd and kubectl for the deploy-time checks, built once into .tools/.
bash scripts/local-apiserver.sh install

requirements=test/contract/requirements.txt
stamp=.venv-contract/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if ! { [ -x .venv-contract/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; }; then
  echo "contract setup: installing pinned packages into .venv-contract" >&2
  rm -rf .venv-contract
  "${PYTHON:-python3}" -m venv .venv-contract
  .venv-contract/bin/pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$wanted" > "$stamp"
fi

# DVC in a venv of its own (its s3fs/aiobotocore pins clash with .venv-contract's boto3).
dvc_requirements=test/contract/requirements-dvc.txt
dvc_stamp=.venv-dvc/.requirements.sha256
dvc_wanted=$(sha256sum "$dvc_requirements" | cut -d' ' -f1)
if ! { [ -x .venv-dvc/bin/dvc ] && [ "$(cat "$dvc_stamp" 2>/dev/null)" = "$dvc_wanted" ]; }; then
  echo "contract setup: installing pinned DVC into .venv-dvc" >&2
  rm -rf .venv-dvc
  "${PYTHON:-python3}" -m venv .venv-dvc
  .venv-dvc/bin/pip install --quiet --disable-pip-version-check --no-input -r "$dvc_requirements"
  echo "$dvc_wanted" > "$dvc_stamp"
fi
