#!/usr/bin/env bash
# Installs the pinned Python validators into .venv (git-ignored). Run by `npm test` (pretest);
# a no-op when .venv already holds exactly scripts/requirements.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=scripts/requirements.txt
stamp=.venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
  exit 0
fi

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "setup-tools: $python not found; install Python 3.10+" >&2; exit 1; }
echo "setup-tools: installing pinned validators into .venv" >&2
rm -rf .venv
"$python" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
echo "$wanted" > "$stamp"
