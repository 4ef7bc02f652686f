#!/usr/bin/env bash
# Installs the pinned Python validators, each set into its own git-ignored venv: .venv (cfn-lint,
# kubernetes-validate) and .venv-checkov (checkov, whose pins clash with cfn-lint's). Run by
# `npm test` (pretest); a no-op for a venv that already holds exactly its requirements file.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup-tools: $python not found; install Python 3.10+" >&2; exit 1; }

install_venv() {
  local venv=$1 requirements=$2
  local stamp=$venv/.requirements.sha256 wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    return 0
  fi
  echo "setup-tools: installing $requirements into $venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input -r "$requirements"
  echo "$wanted" > "$stamp"
}

install_venv .venv scripts/requirements.txt
install_venv .venv-checkov scripts/requirements-checkov.txt
