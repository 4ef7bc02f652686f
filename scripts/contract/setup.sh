#!/usr/bin/env bash
# Installs what the contract tests run: the pinned Python packages into .venv-contract, .venv-dvc
# .venv-feast, .venv-dagster, .venv-kserve and .venv-drift (git-ignored), Debian's PostgreSQL and Redis servers when they are missing, and
# the local kube-apiserver (scripts/local-apiserver.sh), Debian's Chromium for the drift report's picture. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server redis-tools)
# Headless Chromium renders a drift report to the picture the README shows (test_drift.py).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "contract setup: installing Debian's ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start servers on their default ports; the tests run their own on 127.0.0.1.
  service postgresql stop >/dev/null 2>&1 || true
  service redis-server stop >/dev/null 2>&1 || true
fi

# A real kube-apiserver, etcd and kubectl for the deploy-time checks, built once into .tools/.
bash scripts/local-apiserver.sh install

# shellcheck source=scripts/venv.sh
source scripts/venv.sh
install_venv .venv-contract test/contract/requirements.txt
# DVC in a venv of its own (its s3fs/aiobotocore pins clash with .venv-contract's boto3).
install_venv .venv-dvc test/contract/requirements-dvc.txt bin/dvc
# Feast in its own venv too (its pandas, numpy and pyarrow pins clash with MLflow's).
install_venv .venv-feast test/contract/requirements-feast.txt bin/feast
install_venv .venv-dagster test/contract/requirements-dagster.txt bin/dagster-webserver
install_venv .venv-kserve test/contract/requirements-kserve.txt bin/python
# The drift job's own pins (jobs/drift), plus pytest and moto for its tests.
install_venv .venv-drift jobs/drift/requirements-test.txt bin/pytest
# KServe's runtimes and storage-initializer entrypoint at the pinned tag (not on PyPI): the Go module
# of the release carries its python/ folder; the test finds it with `go mod download -json`.
(cd /tmp && GOFLAGS=-mod=mod go mod download github.com/kserve/kserve@v0.20.0)
bash scripts/contract/kserve-build.sh
