#!/usr/bin/env bash
# npm run test:contract: renders the manifests from the constructs, then runs the real programs
# against them (test/contract/). Services run on 127.0.0.1 and are stopped by the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/contract/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node -r ./scripts/register.js scripts/contract/render.ts "$out"
CONTRACT_MANIFESTS="$out" .venv-contract/bin/python -m pytest -p no:cacheprovider -q -s test/contract "$@"
