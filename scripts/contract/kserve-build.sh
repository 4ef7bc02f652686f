#!/usr/bin/env bash
# Builds two programs of KServe at the pinned release from the Go module proxy into .tools/
# (git-ignored), once each:
# - the agent, the payload logger KServe injects into model pods;
# - the manager: the controller and the webhooks that turn an InferenceService into its Deployment,
#   Service and HPA and mutate its pods (test/contract/kserve_controller.py runs it).
# The module cache holds the source read-only; `go build` reads it in place. Cold: about 12 minutes
# for the agent and 4 more for the manager on 2 cores; with Go's build cache warm, about 2 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
release=v0.20.0
mkdir -p .tools
src=
for program in agent manager; do
  target=.tools/kserve-$program-$release
  [ -x "$target" ] && continue
  [ -n "$src" ] || src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/kserve/kserve@$release" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  echo "contract setup: building KServe's $program $release (minutes on a cold Go build cache)" >&2
  started=$SECONDS
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$OLDPWD/$target.partial" "./cmd/$program")
  mv "$target.partial" "$target"
  echo "contract setup: built $target in $((SECONDS - started)) s" >&2
done
