#!/usr/bin/env bash
# Send throughput of ours (target/release/lightbeam) and of the Python lightbeam 0.1.12 (.venv),
# printed as figures (not a timed test). Every run: pool_size 8, a fresh state dir and a FRESH
# sandbox (seeded with the DS 5.2 descriptors unless said otherwise), the same generated data.
# Scenarios (the sandbox's extra serve arguments):
#   1 no-latency   none
#   2 latency      --latency-ms 20                         limit 8 / 20 ms = 400 records/s
#   3 faults       --latency-ms 20 --latency-jitter-ms 60 --fault-rate 0.02
#                  --fault-statuses 429,503 --rng-seed 1   limit 8 / (20 + 60/2) ms = 160 records/s
#   4 rate-limit   --rate-limit 300                        limit 300 records/s
#   5 descriptors  --latency-ms 20, sandbox WITHOUT seeded descriptors, data_dir = the 202 DS 5.2.0
#                  descriptor files of ../shared/edfi/descriptors/ds-5.2.0_jsonl/ (3,298 records,
#                  so all are creates; 95 of them, in 10 files, are for descriptors the sandbox's
#                  DS 5.0 documents lack and get 404); limit 400 records/s
# Output: one line a run:
#   scenario, client, wall s, client CPU s (user + system), peak RSS MB (all from /usr/bin/time),
#   records landed / records sent (the sandbox's /_sandbox/stats creates + updates), landed
#   records per wall second, the sandbox's POST answers by status (201 create, 200 update, 429/503
#   faults or rate limit, ...), and for scenarios 2-5 the records/s as a share of the limit (for
#   scenario 4 also the share of POSTs answered 429; the rate limit's bucket starts full (300), so
#   a short run can pass 100%, and so can a client that gives up early: landed / wall).
#   After scenario 1: Python/ours wall and CPU ratios, our CPU µs per record, and, when wrk is
#   installed (it is not installed by this script), the sandbox's own capacity: wrk with 8
#   connections re-POSTing the same records (updates, 200) into the sandbox ours just filled, and
#   ours' records/s as a share of it (ours' records were creates, so this is an approximation).
#   A client that fails (non-zero exit) or lands fewer records prints a WARNING line (with the end
#   of its log) and the script goes on.
# Usage: bash scripts/bench-send.sh [STUDENTS]   (default 1100 students, about 53,000 records)
#   ONLY="1 3"            run only these scenarios (default "1 2 3 4 5")
#   CLIENTS="ours python" the clients, in this order (default both)
#   CAPACITY_SECONDS=5    duration of the wrk capacity measurement (0: skip it)
#   CLIENT_TIMEOUT=3600   seconds after which a client run is stopped (a WARNING)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
STUDENTS=${1:-1100}
ONLY=${ONLY:-1 2 3 4 5}
CLIENTS=${CLIENTS:-ours python}
CAPACITY_SECONDS=${CAPACITY_SECONDS:-5}
CLIENT_TIMEOUT=${CLIENT_TIMEOUT:-3600}
POOL=8
LATENCY_MS=20
JITTER_MS=60
RATE_LIMIT=300
DESCRIPTORS_DIR="$SHARED_EDFI/descriptors/ds-5.2.0_jsonl"
for c in $CLIENTS; do
  case $c in ours | python) ;; *) echo "unknown client '$c' (CLIENTS: ours python)" >&2; exit 2 ;; esac
done
for s in $ONLY; do
  case $s in [1-5]) ;; *) echo "unknown scenario '$s' (ONLY: 1 2 3 4 5)" >&2; exit 2 ;; esac
done
bash scripts/setup.sh >/dev/null
cargo build --release -q -p lightbeam-cli -p edfi-sandbox
work=$(mktemp -d)
trap 'stop_sandboxes; rm -rf "$work"' EXIT

calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }
# records DIR: the non-empty lines of DIR's *.jsonl files
records_in() { cat "$1"/*.jsonl | grep -c . || true; }
client_bin() { case $1 in ours) echo "$PWD/target/release/lightbeam" ;; python) echo "$PWD/.venv/bin/lightbeam" ;; esac; }

if [[ " $ONLY " =~ [1234] ]]; then
  target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" >/dev/null 2>&1
  echo "data: $(records_in "$work/data") generated records ($STUDENTS students), pool_size $POOL, clients: $CLIENTS"
fi
if [[ " $ONLY " =~ 5 ]]; then
  echo "descriptors: $(records_in "$DESCRIPTORS_DIR") records in $(ls "$DESCRIPTORS_DIR"/*.jsonl | wc -l) files of $DESCRIPTORS_DIR"
fi
printf '%-13s %-6s %8s %8s %7s %13s %7s  %-32s %s\n' \
  scenario client wall_s cpu_s rss_MB landed/sent rec/s "POST status:count" "vs limit"

# sandbox_stats URL [DATA_DIR]: "CREATES UPDATES POSTS POSTS_429 STATUS:COUNT,... NO_ENDPOINT_RECORDS
# NO_ENDPOINT_FILES" from /_sandbox/stats; the last two: records and files of DATA_DIR whose endpoint
# the sandbox does not have (its DS 5.0 documents lack some DS 5.2.0 descriptors)
sandbox_stats() {
  curl -s "$1/_sandbox/stats" | python3 -c '
import glob, json, os, sys
s = json.load(sys.stdin)
post = s.get("requests", {}).get("POST", {})
missing = [f for f in glob.glob(os.path.join(sys.argv[1], "*.jsonl")) if sys.argv[1]
           and "ed-fi/" + os.path.basename(f)[:-len(".jsonl")] not in s["records"]]
lines = sum(1 for f in missing for line in open(f) if line.strip())
print(s["creates"], s["updates"], sum(post.values()), post.get("429", 0),
      ",".join(f"{k}:{v}" for k, v in sorted(post.items())) or "-", lines, len(missing))' "${2:-}"
}

# capacity URL DATA_DIR: wrk, 8 keep-alive connections for CAPACITY_SECONDS, re-POSTing the records
# of DATA_DIR (already in the sandbox at URL, so every POST is an update) in file order
capacity() {
  local url=$1 data=$2 recs lua before after token out rps
  recs="$work/wrk-records.tsv"
  for f in "$data"/*.jsonl; do
    awk -v p="/data/v3/ed-fi/$(basename "$f" .jsonl)" 'NF { print p "\t" $0 }' "$f"
  done >"$recs"
  token=$(curl -s -u testkey:testsecret -d grant_type=client_credentials "$url/oauth/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  lua="$work/wrk.lua"
  cat >"$lua" <<LUA
local recs, i, threads = {}, 0, 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
init = function(args)
  for line in io.lines("$recs") do
    local t = line:find("\t", 1, true)
    recs[#recs + 1] = { line:sub(1, t - 1), line:sub(t + 1) }
  end
  i = (tid - 1) * math.floor(#recs / 2)
end
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer $token" }
request = function()
  i = i % #recs + 1
  return wrk.format("POST", recs[i][1], headers, recs[i][2])
end
LUA
  read -r _ _ _ _ before _ <<<"$(sandbox_stats "$url")"
  out=$(wrk -t2 -c8 -d"${CAPACITY_SECONDS}s" -s "$lua" "$url" 2>&1) || true
  read -r _ _ _ _ after _ <<<"$(sandbox_stats "$url")"
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  echo "${rps:-0} $before $after"
}

# run_once SCENARIO NAME CLIENT DATA_DIR SEEDED LIMIT [sandbox args...]: one client run against a
# fresh sandbox; prints its line; sets WALL, CPU, LANDED, RPS (empty when nothing landed)
run_once() {
  local scenario=$1 name=$2 client=$3 data=$4 seeded=$5 limit=$6; shift 6
  WALL="" CPU="" LANDED="" RPS=""
  local -a docs=()
  local i
  if [ "$seeded" = no ]; then # lib.sh's documents without --seed-dir and its directory
    for ((i = 0; i < ${#SANDBOX_DOCS[@]}; i++)); do
      if [ "${SANDBOX_DOCS[i]}" = --seed-dir ]; then i=$((i + 1)); else docs+=("${SANDBOX_DOCS[i]}"); fi
    done
  else
    docs=("${SANDBOX_DOCS[@]}")
  fi
  local -a SANDBOX_DOCS=("${docs[@]}") # start_sandbox reads it (bash's dynamic scope)
  local url sent log="$work/$scenario-$client.log" tfile="$work/time" rc=0 bin
  bin=$(client_bin "$client")
  sent=$(records_in "$data")
  rm -f "$tfile"
  start_sandbox url "$@"
  if [ -z "$url" ]; then
    echo "WARNING: scenario $scenario ($name), $client: the sandbox did not start"
    stop_sandboxes; wait || true; return 0
  fi
  rm -rf "$work/state"
  write_config "$work" "$url" "$POOL" WARNING "$data/"
  (cd "$work" && /usr/bin/time -f "%e %U %S %M" -o "$tfile" \
    timeout "$CLIENT_TIMEOUT" "$bin" send -c lightbeam.yaml) >"$log" 2>&1 || rc=$?
  local wall cpu rss creates updates posts p429 statuses no_ep no_ep_files
  # time writes "Command exited with non-zero status N" before the figures when the client fails
  read -r wall cpu rss <<<"$(tail -n1 "$tfile" 2>/dev/null | awk '{ printf "%.2f %.2f %.1f", $1, $2 + $3, $4 / 1024 }')"
  if [ -z "$wall" ]; then
    echo "WARNING: scenario $scenario ($name), $client: no figures from /usr/bin/time (exit status $rc)"
    stop_sandboxes; wait || true; return 0
  fi
  read -r creates updates posts p429 statuses no_ep no_ep_files <<<"$(sandbox_stats "$url" "$data")"
  if [ "$scenario" = 1 ] && [ "$client" = ours ] && [ "$((creates + updates))" = "$sent" ] \
    && [ "$CAPACITY_SECONDS" != 0 ] && command -v wrk >/dev/null; then
    CAPACITY=$(capacity "$url" "$data")
  fi
  stop_sandboxes; wait || true
  local landed=$((creates + updates)) rps share="-"
  wall=$(calc "($wall > 0.01 ? $wall : 0.01)" 2) # no division by 0
  rps=$(calc "$landed / $wall" 0)
  if [ -n "$limit" ]; then
    share="limit ${limit}/s: $(calc "$landed / $wall / $limit * 100" 1)%"
    if [ "$scenario" = 4 ]; then
      share="$share, 429: $(calc "$p429 / ($posts > 0 ? $posts : 1) * 100" 1)% of POSTs"
    fi
  fi
  printf '%-13s %-6s %8s %8s %7s %13s %7s  %-32s %s\n' \
    "$scenario $name" "$client" "$wall" "$cpu" "$rss" "$landed/$sent" "$rps" "$statuses" "$share"
  if [ "$rc" != 0 ] || [ "$landed" -lt "$sent" ]; then
    local why=""
    if [ "$no_ep" != 0 ]; then
      why=" ($no_ep records of $no_ep_files files are for endpoints the sandbox's DS 5.0 documents lack: 404; $((sent - no_ep)) can land)"
    fi
    echo "WARNING: scenario $scenario ($name), $client: exit status $rc, $landed of $sent records landed$why; end of its log:"
    if [ -s "$log" ]; then tail -n 3 "$log" | cut -c1-300 | sed 's/^/    /'; else echo "    (empty)"; fi
  fi
  if [ "$landed" -gt 0 ]; then WALL=$wall CPU=$cpu LANDED=$landed RPS=$rps; fi
}

for s in $ONLY; do
  data="$work/data" seeded=yes limit="" name=""
  args=()
  case $s in
    1) name=no-latency ;;
    2) name=latency args=(--latency-ms "$LATENCY_MS") limit=$(calc "$POOL * 1000 / $LATENCY_MS" 0) ;;
    3) name=faults args=(--latency-ms "$LATENCY_MS" --latency-jitter-ms "$JITTER_MS" --fault-rate 0.02
         --fault-statuses 429,503 --rng-seed 1)
       limit=$(calc "$POOL * 1000 / ($LATENCY_MS + $JITTER_MS / 2)" 0) ;;
    4) name=rate-limit args=(--rate-limit "$RATE_LIMIT") limit=$RATE_LIMIT ;;
    5) name=descriptors args=(--latency-ms "$LATENCY_MS") data=$DESCRIPTORS_DIR seeded=no
       limit=$(calc "$POOL * 1000 / $LATENCY_MS" 0) ;;
  esac
  declare -A T_WALL=() T_CPU=() T_LANDED=() T_RPS=()
  CAPACITY=""
  for c in $CLIENTS; do
    run_once "$s" "$name" "$c" "$data" "$seeded" "$limit" "${args[@]}"
    if [ -n "$WALL" ]; then T_WALL[$c]=$WALL T_CPU[$c]=$CPU T_LANDED[$c]=$LANDED T_RPS[$c]=$RPS; fi
  done
  if [ "$s" = 1 ]; then
    if [ -n "${T_WALL[ours]:-}" ] && [ -n "${T_WALL[python]:-}" ]; then
      echo "1 no-latency  ratios: wall Python/ours $(calc "${T_WALL[python]} / ${T_WALL[ours]}" 1)x, CPU Python/ours $(calc "${T_CPU[python]} / (${T_CPU[ours]} > 0 ? ${T_CPU[ours]} : 0.01)" 1)x"
    fi
    if [ -n "${T_WALL[ours]:-}" ] && [ "${T_LANDED[ours]}" -gt 0 ]; then
      echo "1 no-latency  ours: $(calc "${T_CPU[ours]} / ${T_LANDED[ours]} * 1000000" 0) µs CPU per record"
    fi
    if [ -n "$CAPACITY" ]; then
      read -r cap before after <<<"$CAPACITY"
      echo "1 no-latency  sandbox capacity: $cap POSTs/s (wrk -c8, ${CAPACITY_SECONDS}s, the same records re-POSTed as updates; POST status:count $before before, $after after); ours' ${T_RPS[ours]} records/s = $(calc "${T_RPS[ours]} / ($cap > 0 ? $cap : 1) * 100" 1)% of it"
    fi
  fi
  unset T_WALL T_CPU T_LANDED T_RPS
done
