#!/usr/bin/env bash
# Wall time of `cdk synth` for the reference stack and for an empty Stack through the same
# toolchain and flags as `npm run synth` (cdk CLI, the swc loader in scripts/register.js, --no-validation),
# median of N runs each, and their ratio.
# Usage: bash scripts/bench-synth.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

time_synth() { # app outdir -> milliseconds
  local start end
  start=$(date +%s%N)
  npx cdk synth --quiet --no-notices --no-validation --app "$1" --output "$2" >/dev/null 2>&1
  end=$(date +%s%N)
  echo $(( (end - start) / 1000000 ))
}

median() { tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

reference="node -r ./scripts/register.js bin/app.ts"
empty="node -r ./scripts/register.js scripts/bench/empty-app.ts"
# One warm-up each, so both measure repeated synths (assets already staged, files cached).
time_synth "$reference" "$out/ref" >/dev/null
time_synth "$empty" "$out/empty" >/dev/null

ref_times=() empty_times=()
for _ in $(seq "$runs"); do
  ref_times+=("$(time_synth "$reference" "$out/ref")")
  empty_times+=("$(time_synth "$empty" "$out/empty")")
done
ref=$(echo "${ref_times[*]}" | median)
emp=$(echo "${empty_times[*]}" | median)
echo "reference stack: ${ref_times[*]} ms (median $ref)"
echo "empty stack:     ${empty_times[*]} ms (median $emp)"
awk -v r="$ref" -v e="$emp" 'BEGIN { printf "ratio: %.2f\n", r / e }'
