#!/usr/bin/env bash
# npm run test:contract: renders the manifests from the constructs, then runs the real programs
# against them (test/contract/). Services run on 127.0.0.1 and are stopped by the tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/contract/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Everything the run writes to a temp dir (cloud assemblies, pods' folders, databases) goes below
# $out, so the trap leaves nothing behind. World-traversable: PostgreSQL runs as its own user.
export TMPDIR=$out/tmp
mkdir -p "$TMPDIR" && chmod 755 "$out" "$TMPDIR"
# Ports the kernel hands out now, so a second run on this machine never picks the same ones.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CONTRACT_S3_PORT=$(free_port) CONTRACT_POSTGRES_PORT=$(free_port) CONTRACT_REDIS_PORT=$(free_port)
export CONTRACT_S3_PORT CONTRACT_POSTGRES_PORT CONTRACT_REDIS_PORT
node -r ./scripts/register.js scripts/contract/render.ts "$out"
CONTRACT_MANIFESTS="$out" .venv-contract/bin/python -m pytest -p no:cacheprovider -q -s test/contract "$@"
