#!/usr/bin/env bash
# Template run against its floor, side by side in one run (bench/provisioning/run.ts):
#   bench/provisioning.sh [--runs 3] [--out bench/results]
# Brings the stack up if needed (idempotent; it also rewrites the stack's Backstage overlay) and
# leaves it running.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$REPO_ROOT"
stack/stack up >&2
eval "$(stack/stack env)"
exec node --require "$REPO_ROOT/node_modules/@backstage/cli-node/config/nodeTransform.cjs" \
  bench/provisioning/run.ts "$@"
