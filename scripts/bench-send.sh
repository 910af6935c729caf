#!/usr/bin/env bash
# Send throughput, printed as figures (not a timed test):
#  1. ours / the Python lightbeam 0.1.12, both pool_size 8, same generated data, sandbox without latency;
#  2. ours against a sandbox with --latency-ms 20, divided by the limit pool_size / latency.
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
timed() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); calc "$e - $s" 2; }
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
ours=$(run_once "$PWD/target/release/lightbeam")
python=$(run_once "$PWD/.venv/bin/lightbeam")
echo "no latency: ours $(rate "$ours") records/s (${ours}s), Python $(rate "$python") records/s (${python}s)"
echo "ratio ours/Python: $(calc "$python / $ours" 1)x"

SANDBOX_EXTRA=(--latency-ms "$LATENCY_MS")
lat=$(run_once "$PWD/target/release/lightbeam")
limit=$(calc "$POOL * 1000 / $LATENCY_MS" 0)
echo "latency ${LATENCY_MS} ms: ours $(rate "$lat") records/s; limit pool_size/latency = $limit records/s"
echo "share of the limit: $(calc "$records / $lat / $limit * 100" 1)%"
rm -rf "$work"
