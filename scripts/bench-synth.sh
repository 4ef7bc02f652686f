#!/usr/bin/env bash
# Synth time of the reference stack against an empty Stack, through the same toolchain and flags as
# `npm run synth` (cdk CLI, the swc loader in scripts/register.js, --no-validation).
#
# Method, so that noise cannot decide the result: after one warm-up of each (assets staged, files
# cached), the two run in turn, reference then empty, N times (default 15). Each pair gives a ratio
# of wall time and one of CPU time (user + system of the whole process tree, from bash's `time`),
# and the script prints the median of each: a pair shares whatever the machine was doing then, so
# drift in its speed cancels out, and the median ignores a single slow or lucky run. CPU time is
# the figure to compare with the 1.3 budget; wall time is printed beside it.
# Usage: bash scripts/bench-synth.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# measure APP OUTDIR -> "wall cpu" in seconds
measure() {
  local TIMEFORMAT='%R %U %S' line
  line=$( { time npx cdk synth --quiet --no-notices --no-validation --app "$1" --output "$2" >/dev/null 2>&1; } 2>&1 )
  awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$line"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

reference="node -r ./scripts/register.js bin/app.ts"
empty="node -r ./scripts/register.js scripts/bench/empty-app.ts"
measure "$reference" "$out/ref" >/dev/null
measure "$empty" "$out/empty" >/dev/null

: > "$out/pairs"
for _ in $(seq "$runs"); do
  read -r ref_wall ref_cpu < <(measure "$reference" "$out/ref")
  read -r emp_wall emp_cpu < <(measure "$empty" "$out/empty")
  echo "$ref_wall $ref_cpu $emp_wall $emp_cpu" >> "$out/pairs"
done
column() { awk -v c="$1" '{print $c}' "$out/pairs" | median; }
ratio() { awk -v a="$1" -v b="$2" '{printf "%.4f\n", $a / $b}' "$out/pairs" | median; }
echo "reference stack: wall $(column 1) s, cpu $(column 2) s (medians of $runs)"
echo "empty stack:     wall $(column 3) s, cpu $(column 4) s"
echo "ratio (median of paired ratios): cpu $(ratio 2 4), wall $(ratio 1 3)"
