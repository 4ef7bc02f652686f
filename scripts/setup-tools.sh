#!/usr/bin/env bash
# Installs the pinned Python validators, each set into its own git-ignored venv: .venv (cfn-lint,
# kubernetes-validate) and .venv-checkov (checkov, whose pins clash with cfn-lint's). Run by
# `npm test` (pretest); a no-op for a venv that already holds exactly its requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup-tools: $python not found; install Python 3.10+" >&2; exit 1; }

# shellcheck source=scripts/venv.sh
source scripts/venv.sh

install_venv .venv scripts/requirements.txt
install_venv .venv-checkov scripts/requirements-checkov.txt
