#!/usr/bin/env bash
# fetch throughput with cursor paging against offset paging, on one ODS/API 7.3 sandbox
# (target/release/edfi-sandbox with the 7.3 / DS 6.0 documents and --cursor-paging), printed as
# figures (not a timed test). The sandbox is filled once by ours with generated data (about 48
# records a student), then every endpoint is fetched (pool_size 8, fetch.page_size 500) by:
#   ours   paging: offset   limit/offset pages planned from Total-Count
#   ours   paging: auto     cursor paging for the endpoints with records for pool_size partitions
#   ours   paging: cursor   /partitions, then pageToken/pageSize pages, pool_size partitions at once,
#                           for every endpoint
#   python (lightbeam 0.1.12, .venv)   its offset paging (CLIENTS="ours" leaves it out)
# Output: one line a run: wall s, CPU s (user + system) and peak RSS MB of the client (from
# /usr/bin/time), records written (every endpoint of the dependency order: the sandbox's
# schoolYearTypes are not in DS 6.0's), records/s, the sandbox's GET requests during the run; a
# WARNING when ours' outputs differ (they must not: cursor partitions are written in the API's
# order); then the records/s ratios against offset paging. The sandbox's offsets cost it nothing
# (an ODS's database pays for deep offsets), so these figures show the client's side only.
# Usage: bash scripts/bench-fetch.sh [STUDENTS]   (default 2100 students, about 100,000 records)
#   LATENCY_MS=20   the sandbox answers every request this much later (default 0)
#   CLIENTS="ours python"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
STUDENTS=${1:-2100}
CLIENTS=${CLIENTS:-ours python}
LATENCY_MS=${LATENCY_MS:-0}
POOL=8
SANDBOX_DOCS=(
  --resources-openapi "$SHARED_EDFI/openapi/odsapi-7.3_resources_openapi3_ds6.0.json"
  --descriptors-openapi "$SHARED_EDFI/openapi/odsapi-7.3_descriptors_openapi3_ds6.0.json"
  --dependencies "$SHARED_EDFI/dependencies/odsapi-7.x_ds-6.0.0_dependencies.json"
  --seed-dir "$SHARED_EDFI/descriptors/ds-5.2.0_jsonl"
)
for b in target/release/lightbeam target/release/edfi-sandbox; do
  [ -x "$b" ] || { echo "$b missing: cargo build --release -p lightbeam-cli -p edfi-sandbox" >&2; exit 2; }
done
if [[ " $CLIENTS " =~ python ]] && [ ! -x .venv/bin/lightbeam ]; then
  echo ".venv/bin/lightbeam missing: bash scripts/setup.sh" >&2; exit 2
fi
work=$(mktemp -d)
trap 'stop_sandboxes; rm -rf "$work"' EXIT

target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" >/dev/null 2>&1
start_sandbox url --cursor-paging --latency-ms "$LATENCY_MS"
write_config "$work/fill" "$url" "$POOL" WARNING "$work/data/"
target/release/lightbeam send -c "$work/fill/lightbeam.yaml" >"$work/fill/log" 2>&1 ||
  { echo "filling the sandbox failed: $(tail -n 5 "$work/fill/log")" >&2; exit 1; }
total=$(curl -s "$url/_sandbox/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin)["records"].values()))')
echo "sandbox: $url (ODS/API 7.3, DS 6.0, --cursor-paging, latency ${LATENCY_MS} ms), $total records; pool_size $POOL, fetch.page_size 500"
printf '%-8s %-7s %8s %8s %7s %9s %8s %7s\n' client paging wall_s cpu_s rss_MB records rec/s GETs

client_bin() { case $1 in ours) echo "$PWD/target/release/lightbeam" ;; python) echo "$PWD/.venv/bin/lightbeam" ;; esac; }
gets() { curl -s "$url/_sandbox/stats" | python3 -c 'import json,sys; print(sum(json.load(sys.stdin).get("requests",{}).get("GET",{}).values()))'; }

# fetch_run CLIENT PAGING: prints its line, sets RATE
fetch_run() {
  local client=$1 paging=$2 dir="$work/$1-$2" bin before after wall cpu rss records
  bin=$(client_bin "$client")
  mkdir -p "$dir/out"
  write_config "$dir" "$url" "$POOL" WARNING "$dir/out/"
  printf 'fetch:\n  page_size: 500\n' >>"$dir/lightbeam.yaml"
  [ "$client" = ours ] && printf '  paging: %s\n' "$paging" >>"$dir/lightbeam.yaml"
  before=$(gets)
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$bin" fetch -c "$dir/lightbeam.yaml" >"$dir/log" 2>&1 ||
    echo "WARNING: $client $paging exited non-zero: $(tail -n 3 "$dir/log")"
  after=$(gets)
  read -r wall user sys rss <"$dir/time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  records=$(cat "$dir"/out/*.jsonl 2>/dev/null | wc -l)
  RATE=$(awk -v n="$records" -v w="$wall" 'BEGIN { printf "%.0f", n / (w > 0 ? w : 0.01) }')
  printf '%-8s %-7s %8.2f %8s %7.1f %9s %8s %7s\n' "$client" "$paging" "$wall" "$cpu" \
    "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$records" "$RATE" "$((after - before))"
  [ -z "${EXPECT:-}" ] || [ "$records" -eq "$EXPECT" ] ||
    echo "WARNING: $client $paging wrote $records records, ours offset $EXPECT"
  EXPECT=${EXPECT:-$records}
}

fetch_run ours offset
offset_rate=$RATE
fetch_run ours auto
auto_rate=$RATE
fetch_run ours cursor
cursor_rate=$RATE
if [[ " $CLIENTS " =~ python ]]; then fetch_run python offset; fi
for d in auto cursor; do
  diff -rq "$work/ours-offset/out" "$work/ours-$d/out" >/dev/null || echo "WARNING: ours $d and offset outputs differ"
done
awk -v a="$auto_rate" -v c="$cursor_rate" -v o="$offset_rate" \
  'BEGIN { printf "records/s against offset: auto %.2fx, cursor %.2fx\n", a / (o > 0 ? o : 1), c / (o > 0 ? o : 1) }'
