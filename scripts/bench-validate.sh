#!/usr/bin/env bash
# Validate throughput and peak memory, printed as figures (not a timed test):
#  1. ours / the Python lightbeam 0.1.12 with schema + descriptors + uniqueness on the same
#     generated data (about 100,000 lines for 2,100 students), caches warm for both;
#  2. ours with references too, resolved against the local data (the Python tool cannot
#     validate references on this data: it stops with a KeyError on targets whose identity
#     includes a reference, e.g. sessions, sections).
# Usage: bash scripts/bench-validate.sh [STUDENTS]   (default 2100)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
STUDENTS=${1:-2100}
bash scripts/setup.sh >/dev/null
cargo build --release -q -p lightbeam-cli -p edfi-sandbox
work=$(mktemp -d)
target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" >/dev/null 2>&1
records=$(cat "$work"/data/*.jsonl | wc -l)
echo "data: $records lines ($STUDENTS students, $(du -sh "$work/data" | cut -f1)), $(nproc) CPUs"

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# measure NAME METHODS COMMAND...: one warm-up run on a small endpoint (fills the OpenAPI and
# descriptor caches), then the timed run; sets SECS and RSS_MB
measure() {
  local methods=$1; shift
  write_config "$work" "$url" 8
  printf 'validate:\n  methods: %s\n' "$methods" >>"$work/lightbeam.yaml"
  (cd "$work" && "$@" validate -c lightbeam.yaml -s schools >/dev/null 2>&1) || true
  local out; out=$(mktemp)
  (cd "$work" && /usr/bin/time -f '%e %M' -o "$out" "$@" validate -c lightbeam.yaml \
    --results-file "$work/results.json" >/dev/null 2>&1) || true
  read -r SECS RSS_KB <"$out"
  RSS_MB=$(calc "$RSS_KB / 1024" 0)
  rm -f "$out"
  local failed
  failed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_records_failed"])' "$work/results.json")
  [ "$failed" = 0 ] || echo "WARNING: $failed lines failed validation" >&2
}

start_sandbox url
rm -rf "$work/state"
measure "[schema, descriptors, uniqueness]" "$PWD/target/release/lightbeam"
ours=$SECS; ours_rss=$RSS_MB
measure "[schema, descriptors, uniqueness]" "$PWD/.venv/bin/lightbeam"
python=$SECS; python_rss=$RSS_MB
echo "schema+descriptors+uniqueness: ours $(calc "$records / $ours" 0) lines/s (${ours}s, peak RSS ${ours_rss} MB)," \
  "Python $(calc "$records / $python" 0) lines/s (${python}s, peak RSS ${python_rss} MB)"
echo "ratio ours/Python: $(calc "$python / $ours" 1)x"

measure '"*"' "$PWD/target/release/lightbeam"
echo "all methods, references against local data: ours $(calc "$records / $SECS" 0) lines/s (${SECS}s, peak RSS ${RSS_MB} MB)"
rm -rf "$work"
