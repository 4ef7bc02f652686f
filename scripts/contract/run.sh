#!/usr/bin/env bash
# npm run test:contract: renders the manifests from the constructs, then runs the real programs
# against them (test/contract/). Services run on 127.0.0.1 and are stopped by the tests.
#
# Without arguments the modules run as two pytest sessions side by side: most of the suite waits
# (servers starting, pods polling, CronJob windows), so two sessions on 2 cores take about half the
# time of one. Each session has its own services, ports, rendered manifests and temp dir, so they
# share nothing but the read-only tools and venvs. Group A is fixed below (balanced on measured
# module times, and holding every module that runs KServe's manager: it listens on fixed ports);
# group B is every other module, so a new module always runs. With arguments (e.g. `-k name`),
# one session runs them as given.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/contract/setup.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# World-traversable: PostgreSQL runs as its own user.
chmod 755 "$out"
# Locks the two sessions share (test/contract/kserve_pods.py).
export CONTRACT_LOCKS=$out
# Every port a session's servers listen on comes from test/contract/ports.py: from the session's
# own range below the kernel's ephemeral ports, in turn, so no two servers of either session can be
# handed the same one.
free_port() { python3 test/contract/ports.py; }

GROUP_A=(test_kserve.py test_kserve_controller.py test_feast.py test_mlflow.py test_apiserver.py test_access_control.py
  test_drift_job.py test_network_policy.py test_mlflow_auth.py)

# session NAME PORTS PYTEST_ARGS...: one pytest session below $out/NAME whose servers listen on
# PORTS (a range). Everything it writes to a temp dir (cloud assemblies, pods' folders, databases)
# goes there, so the trap leaves nothing behind.
session() {
  local dir=$out/$1
  export CONTRACT_PORT_RANGE=$2 CONTRACT_PORT_STATE=$out/$1.port
  shift 2
  mkdir -p "$dir/tmp" && chmod 755 "$dir" "$dir/tmp"
  # Exported, not only passed to render.ts: tests run scripts/contract/*.ts that read the same endpoints.
  CONTRACT_S3_PORT=$(free_port) CONTRACT_POSTGRES_PORT=$(free_port) CONTRACT_REDIS_PORT=$(free_port)
  export CONTRACT_S3_PORT CONTRACT_POSTGRES_PORT CONTRACT_REDIS_PORT TMPDIR=$dir/tmp CONTRACT_MANIFESTS=$dir
  node -r ./scripts/register.js scripts/contract/render.ts "$dir"
  # The slowest tests are listed, for balancing the two groups on CI's own figures.
  .venv-contract/bin/python -m pytest -p no:cacheprovider -q -s --durations=12 "$@"
}

if [ $# -gt 0 ]; then
  session all 20000-31999 test/contract "$@"
  exit
fi

group_a=() group_b=()
for module in test/contract/test_*.py; do
  if [[ " ${GROUP_A[*]} " == *" $(basename "$module") "* ]]; then group_a+=("$module"); else group_b+=("$module"); fi
done
[ ${#group_a[@]} -eq ${#GROUP_A[@]} ] || { echo "run.sh: GROUP_A names a module that does not exist" >&2; exit 1; }

session a 20000-25999 "${group_a[@]}" >"$out/a.log" 2>&1 & pid_a=$!
session b 26000-31999 "${group_b[@]}" >"$out/b.log" 2>&1 & pid_b=$!
status=0
wait "$pid_a" || status=1
wait "$pid_b" || status=1
for group in a b; do
  echo "== contract tests, group $group"
  cat "$out/$group.log"
done
exit "$status"
