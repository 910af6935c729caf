#!/usr/bin/env bash
# Send throughput, printed as figures (not a timed test):
#  1. ours / the Python lightbeam 0.1.12, both pool_size 8, same generated data, sandbox without latency;
#  2. ours against a sandbox with --latency-ms 20, divided by the limit pool_size / latency;
#  with the CPU time (user + system) of each client.
# Usage: bash scripts/bench-send.sh [STUDENTS]   (default 1100 students, about 53,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
STUDENTS=${1:-1100}
POOL=8
LATENCY_MS=20
bash scripts/setup.sh >/dev/null
cargo build --release -q -p lightbeam-cli -p edfi-sandbox
work=$(mktemp -d)
target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" >/dev/null 2>&1
records=$(cat "$work"/data/*.jsonl | wc -l)
echo "data: $records records ($STUDENTS students), pool_size $POOL"

# seconds of a command, from a clean state
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# timed COMMAND...: "WALL CPU" seconds of a command (CPU: user + system, by /usr/bin/time)
timed() {
  local t; t=$(mktemp)
  /usr/bin/time -f "%e %U %S" -o "$t" "$@" >/dev/null 2>&1 || true
  awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$t"; rm -f "$t"
}
rate() { calc "$records / $1" 0; }

run_once() { # run_once NAME COMMAND... against a fresh sandbox; prints seconds
  local url; start_sandbox url "${SANDBOX_EXTRA[@]}"
  rm -rf "$work/state"; write_config "$work" "$url" "$POOL"
  local secs; secs=$(cd "$work" && timed "$@" send -c lightbeam.yaml)
  local landed; landed=$(curl -s "$url/_sandbox/stats" | python3 -c 'import sys,json; print(json.load(sys.stdin)["creates"])')
  stop_sandboxes
  [ "$landed" = "$records" ] || echo "WARNING: $landed of $records records landed" >&2
  echo "$secs"
}

SANDBOX_EXTRA=()
read -r ours ours_cpu <<<"$(run_once "$PWD/target/release/lightbeam")"
read -r python python_cpu <<<"$(run_once "$PWD/.venv/bin/lightbeam")"
echo "no latency: ours $(rate "$ours") records/s (${ours}s wall, ${ours_cpu}s CPU), Python $(rate "$python") records/s (${python}s wall, ${python_cpu}s CPU)"
echo "ratio ours/Python: $(calc "$python / $ours" 1)x wall, $(calc "$python_cpu / $ours_cpu" 1)x CPU"

SANDBOX_EXTRA=(--latency-ms "$LATENCY_MS")
read -r lat lat_cpu <<<"$(run_once "$PWD/target/release/lightbeam")"
limit=$(calc "$POOL * 1000 / $LATENCY_MS" 0)
echo "latency ${LATENCY_MS} ms: ours $(rate "$lat") records/s (${lat_cpu}s CPU); limit pool_size/latency = $limit records/s"
echo "share of the limit: $(calc "$records / $lat / $limit * 100" 1)%"
rm -rf "$work"
