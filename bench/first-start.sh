#!/usr/bin/env bash
# Times scripts/start to a healthy demo instance, and the longest silence in its output.
#   bench/first-start.sh                  this machine's caches as they are
#   bench/first-start.sh --caches DIR     every cache in DIR: the tools folder (Node, Yarn, the stack's
#                                         binaries and virtualenvs), Go's build and module caches, pip's,
#                                         npm's and Yarn's caches, and the stack's state. An empty (or new)
#                                         DIR in a fresh clone is a first start on a fresh machine (Debian
#                                         packages aside); the same command again is a warm start.
# Leaves nothing running: when the demo is healthy (or after 30 min) scripts/start is stopped, and
# with it the stack. Needs the stack's ports free. Its own output: every line of scripts/start with
# the seconds since the start, then a summary (also written to bench/results/first-start-*.txt).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

mode="machine caches"
case "${1:-}" in
  "") ;;
  --caches)
    [[ -n "${2:-}" ]] || { echo "--caches needs a folder, received nothing" >&2; exit 2; }
    mkdir -p "$2"
    caches="$(realpath "$2")"
    if [[ -z "$(ls -A "$caches")" ]]; then
      mode="cold: empty caches in $caches"
      # A fresh checkout has no node_modules either.
      if [[ -e node_modules ]]; then
        echo "A cold start needs a checkout without node_modules (a fresh clone): $REPO_ROOT has one." >&2
        exit 2
      fi
    else
      mode="warm: caches in $caches"
    fi
    # The postgres user must reach the stack's state inside it.
    chmod 755 "$caches"
    export STATEFUL_MLFLOW_TOOLS="$caches/tools" GOCACHE="$caches/go-build" GOMODCACHE="$caches/go-mod"
    export PIP_CACHE_DIR="$caches/pip" STACK_STATE_DIR="$caches/state" npm_config_cache="$caches/npm"
    ;;
  *) echo "Unknown option: received '$1'. Accepted: --caches DIR, or nothing." >&2; exit 2 ;;
esac

mkdir -p bench/results
out="bench/results/first-start-$(date -u +%Y%m%dT%H%M%SZ).txt"
health_url="http://localhost:7007/api/mlflow/v1/health/default/component/demo"

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
t0=$EPOCHREALTIME
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

KEEP_STACK=0 setsid scripts/start > >(
  last=$t0 max_gap=0 max_at=""
  while IFS= read -r line; do
    now=$EPOCHREALTIME
    gap=$(awk -v a="$last" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
    if awk -v g="$gap" -v m="$max_gap" 'BEGIN { exit !(g > m) }'; then
      max_gap=$gap max_at="before: ${line:0:120}"
    fi
    last=$now
    printf '%7s  %s\n' "$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')" "$line" | tee -a "$out.log"
    printf '%s\t%s\n' "$max_gap" "$max_at" >"$out.gap"
  done
) 2>&1 &
start_pid=$!
# However this script ends, scripts/start ends with it (its process group: Backstage and its children).
trap 'kill -TERM -- "-$start_pid" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

token=""
healthy_at=""
deadline=$((SECONDS + 1800))
while ((SECONDS < deadline)) && kill -0 "$start_pid" 2>/dev/null; do
  if [[ -z "$token" ]]; then
    token="$(curl -fsS 'http://localhost:7007/api/auth/guest/refresh?env=development' \
      -H 'X-Requested-With: XMLHttpRequest' 2>/dev/null |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["backstageIdentity"]["token"])' 2>/dev/null || true)"
  fi
  if [[ -n "$token" ]] &&
    curl -fsS -H "Authorization: Bearer $token" "$health_url" 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["overall"] != "healthy")' 2>/dev/null; then
    healthy_at="$(elapsed)"
    break
  fi
  sleep 1
done

kill -TERM -- "-$start_pid" 2>/dev/null || true
wait "$start_pid" 2>/dev/null || true
IFS=$'\t' read -r max_gap max_at <"$out.gap" || true
rm -f "$out.gap"
{
  echo "start ($mode) on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load average $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "commit: $(git rev-parse --short HEAD)"
  if [[ -n "$healthy_at" ]]; then
    echo "scripts/start to a healthy demo: ${healthy_at} s"
  else
    echo "scripts/start never reported a healthy demo (after $(elapsed) s)"
  fi
  echo "longest silence in its output: ${max_gap:-?} s (${max_at:-})"
  # The phases, from the timestamped output (seconds since the start).
  phase() { grep -m1 -F -- "$2" "$out.log" | awk -v what="$1" '{ printf "  %-28s %s s\n", what, $1 }' || true; }
  phase "dependencies installed" "Dependencies installed"
  phase "stack up" "stack is up in"
  phase "Backstage starting" "Starting Backstage"
  phase "demo task started" "[provision-demo] Task "
  phase "demo task finished" "Demo instance ready"
} | tee "$out"
[[ -n "$healthy_at" ]]
