#!/usr/bin/env bash
# Scale: about 1,000,000 records (21,000 generated students) sent by our lightbeam to a sandbox
# without latency, then a plain rerun that skips them all. Prints, for each run, the wall time,
# the client's CPU time (user + system) and peak RSS, and how many records landed.
# Aims (issue 11): peak RSS <= 100 MB; the rerun that skips everything <= 2 s.
# Usage: bash scripts/bench-scale.sh [STUDENTS]   (default 21000, about 1,008,000 records)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
STUDENTS=${1:-21000}
POOL=8
cargo build --release -q -p lightbeam-cli -p edfi-sandbox
work=$(mktemp -d)
target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" >/dev/null 2>&1
records=$(cat "$work"/data/*.jsonl | wc -l)
echo "data: $records records ($STUDENTS students, $(du -sh "$work/data" | cut -f1)), pool_size $POOL"

start_sandbox url
write_config "$work" "$url" "$POOL"
client="$PWD/target/release/lightbeam"
# run NAME: one send, timed: wall, CPU, peak RSS, exit code
run() {
  local t; t=$(mktemp)
  local rc=0
  (cd "$work" && /usr/bin/time -f "%e %U %S %M" -o "$t" "$client" send -c lightbeam.yaml >/dev/null 2>"$work/$1.log") || rc=$?
  tail -n1 "$t" | awk -v name="$1" -v rc="$rc" -v n="$records" '{ printf "%-8s wall %.2fs (%.0f records/s), CPU %.2fs (user %.2f, system %.2f; %.1f us a record), peak RSS %.0f MB, exit %d\n", name, $1, n / $1, $2 + $3, $2, $3, ($2 + $3) * 1e6 / n, $4 / 1024, rc }'
  rm -f "$t"
}
run send
landed=$(curl -s "$url/_sandbox/stats" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["creates"] + d["updates"])')
echo "landed: $landed of $records"
[ "$landed" = "$records" ] || echo "WARNING: $landed of $records records landed"
run rerun
grep -h "payloads:" "$work/rerun.log" | tail -1 || true
rm -rf "$work"
