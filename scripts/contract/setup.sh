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

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
install_venv .venv-contract test/contract/requirements.txt
# DVC in a venv of its own (its s3fs/aiobotocore pins clash with .venv-contract's boto3).
install_venv .venv-dvc test/contract/requirements-dvc.txt bin/dvc
