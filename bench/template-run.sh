#!/usr/bin/env bash
# Times full runs of templates/mlflow-production on the local stack and prints the median.
#   bench/template-run.sh [runs]     (default 5)
# Brings the stack up if needed (idempotent); leaves it running.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$REPO_ROOT"
stack/stack up >&2
eval "$(stack/stack env)"
exec node --require "$REPO_ROOT/node_modules/@backstage/cli-node/config/nodeTransform.cjs" \
  bench/template-run.ts "$@"
