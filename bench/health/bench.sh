#!/usr/bin/env bash
# The health figures of docs/benchmarks.md ("Health") in one run, against the started app
# (`KEEP_STACK=1 scripts/start`, backend on :7007 with the demo instance) and the local stack:
#   1. warm: health, catalog by-name and liveness routes, 1 and 50 clients, interleaved (warm.ts);
#   2. cold: one instance's report against each check's calls made alone (cold.ts);
#   3. fleet: 500 instances cold and refreshed, AWS calls counted per API, simulated peers (run.ts).
# Prints each part's JSON with the load average before and after it, then the rows for
# docs/benchmarks.md with their ratios (summary.ts); keeps them in bench/results/health-<UTC time>/.
#   bench/health/bench.sh [--entity component:default/demo] [--base-url http://localhost:7007]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
cd "$REPO_ROOT"

entity=component:default/demo
base_url=${BACKEND_URL:-http://localhost:7007}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --entity) entity="$2"; shift 2 ;;
    --base-url) base_url="$2"; shift 2 ;;
    *) echo "Unknown argument: $1 (accepted: --entity <ref>, --base-url <url>)" >&2; exit 2 ;;
  esac
done

if ! curl -fsS -o /dev/null "$base_url/.backstage/health/v1/liveness"; then
  echo "No backend answers at $base_url: start the app first (KEEP_STACK=1 scripts/start)." >&2
  exit 1
fi
eval "$(stack/stack env)"

out="bench/results/health-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
node_ts=(node --require "$REPO_ROOT/node_modules/@backstage/cli-node/config/nodeTransform.cjs")
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet -- plugins bench || echo ' (with uncommitted changes)')"
  echo "cpus: $(nproc) ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
  echo "node: $(node --version)"
} | tee "$out/machine.txt"

part() {
  local name="$1"
  shift
  echo "== $name (load average before: $(loadavg))"
  "${node_ts[@]}" "$@" | tee "$out/$name.json"
  echo "== $name done (load average after: $(loadavg))"
}

part warm bench/health/warm.ts --base-url "$base_url" --entity "$entity"
part cold bench/health/cold.ts --base-url "$base_url" --entity "$entity"
part fleet bench/health/run.ts --entities 500
"${node_ts[@]}" bench/health/summary.ts "$out" | tee "$out/summary.md"
echo "Results in $out"
