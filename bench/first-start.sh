#!/usr/bin/env bash
# Times scripts/start to a healthy demo instance, and the longest silence in its output.
#   bench/first-start.sh            this machine's caches as they are (a warm start when it ran before)
#   bench/first-start.sh --cold     a fresh machine: empty tools folder, Go build and module caches,
#                                   pip cache, Yarn cache and stack state (temporary folders, removed
#                                   afterwards; Debian packages stay installed)
# Leaves nothing running: when the demo is healthy (or after 30 min) scripts/start is stopped, and
# with it the stack. Needs the stack's ports free. Its own output: every line of scripts/start with
# the seconds since the start, then a summary (also written to bench/results/first-start-*.txt).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

mode=as-is
case "${1:-}" in
  "") ;;
  --cold) mode=cold ;;
  *) echo "Unknown option: received '$1'. Accepted: --cold, or nothing." >&2; exit 2 ;;
esac

scratch=""
if [[ $mode == cold ]]; then
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/first-start.XXXXXX")"
  chmod 755 "$scratch"
  export STATEFUL_MLFLOW_TOOLS="$scratch/tools" GOCACHE="$scratch/go-build" GOMODCACHE="$scratch/go-mod"
  export PIP_CACHE_DIR="$scratch/pip" STACK_STATE_DIR="$scratch/state" npm_config_cache="$scratch/npm"
  # A fresh checkout has no node_modules either.
  if [[ -e node_modules ]]; then
    echo "--cold needs a checkout without node_modules (a fresh clone): $REPO_ROOT has one." >&2
    exit 2
  fi
fi

mkdir -p bench/results
out="bench/results/first-start-$mode-$(date -u +%Y%m%dT%H%M%SZ).txt"
health_url="http://localhost:7007/api/mlflow/v1/health/default/component/demo"

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
    printf '%7s  %s\n' "$(awk -v a="$t0" -v b="$now" 'BEGIN { printf "%.1f", b - a }')" "$line"
    printf '%s\t%s\n' "$max_gap" "$max_at" >"$out.gap"
  done
) 2>&1 &
start_pid=$!

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
    python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["status"] != "healthy")' 2>/dev/null; then
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
  echo "first start ($mode) on $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit: $(git rev-parse --short HEAD)"
  if [[ -n "$healthy_at" ]]; then
    echo "scripts/start to a healthy demo: ${healthy_at} s"
  else
    echo "scripts/start never reported a healthy demo (after $(elapsed) s)"
  fi
  echo "longest silence in its output: ${max_gap:-?} s (${max_at:-})"
} | tee "$out"
if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi
[[ -n "$healthy_at" ]]
