#!/usr/bin/env bash
# Benchmarks of the web app (figures printed, not a timed test), in headless Chromium:
# 1. validate throughput (lines/s) of the wasm build against the native CLI on the same ~100,000
#    generated lines (both against a seeded sandbox without latency);
# 2. read + hash throughput (the part of `send` that decides what to skip) of wasm against the
#    same core code native, on the same 100,000-line file;
# 3. send throughput against a sandbox with --latency-ms 20, as a share of the browser's limit
#    (6 connections per origin over HTTP/1.1 / 20 ms = 300 requests/s);
# 4. the bundle size, gzipped.
# Usage: bash scripts/bench-web.sh [VALIDATE_STUDENTS] [SEND_STUDENTS]   (defaults 2075, 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
VSTUDENTS=${1:-2075}
SSTUDENTS=${2:-60}
cargo build --release -q -p edfi-sandbox -p lightbeam-cli
cargo build --release -q -p lightbeam-web --example bench_read_hash
build_line=$(bash scripts/build-web.sh | tail -1)
[ -x web/node_modules/.bin/wasm-opt ] || (cd web && npm ci --no-audit --no-fund --silent)
work=$(mktemp -d)
target/release/edfi-sandbox generate --out "$work/validate" --students "$VSTUDENTS" --rng-seed 1 >/dev/null
target/release/edfi-sandbox generate --out "$work/send" --students "$SSTUDENTS" --rng-seed 2 >/dev/null
vlines=$(cat "$work"/validate/*.jsonl | wc -l)
slines=$(cat "$work"/send/*.jsonl | wc -l)
# a 100,000-line file for read + hash (students with distinct ids)
python3 - "$work/hash.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(100_000):
        f.write(json.dumps({"studentUniqueId": str(600000 + i), "birthDate": "2008-09-08", "firstName": "Levi",
                            "lastSurname": "Thompson", "birthCity": "Riverbend",
                            "birthSexDescriptor": "uri://ed-fi.org/SexDescriptor#Male"}) + "\n")
PY
start_sandbox vurl
start_sandbox lurl --latency-ms 20
write_config "$work/cfg-v" "$vurl" 6 WARNING "$work/validate"
write_config "$work/cfg-s" "$lurl" 6 WARNING "$work/send"

echo "== native CLI: lightbeam validate on $vlines lines"
t0=$(date +%s.%N)
target/release/lightbeam validate -c "$work/cfg-v/lightbeam.yaml" --results-file "$work/native-validate.json" >/dev/null 2>&1 || true
t1=$(date +%s.%N)
native_hash=$(target/release/examples/bench_read_hash "$work/hash.jsonl")

echo "== browser: validate, read + hash, send (headless Chromium)"
browser_json=$(cd web && VALIDATE_DIR="$work/validate" VALIDATE_CFG="$work/cfg-v/lightbeam.yaml" \
  HASH_FILE="$work/hash.jsonl" SEND_DIR="$work/send" SEND_CFG="$work/cfg-s/lightbeam.yaml" node bench/bench.mjs)

python3 - "$browser_json" "$work/native-validate.json" "$t0" "$t1" "$native_hash" "$vlines" "$slines" "$build_line" <<'PY'
import json, sys
b = json.loads(sys.argv[1])
native = json.load(open(sys.argv[2]))
t0, t1 = float(sys.argv[3]), float(sys.argv[4])
nh_lines, nh_secs = sys.argv[5].split()[:2]
vlines, slines = int(sys.argv[6]), int(sys.argv[7])
nv = native["total_records_processed"] / native["runtime_sec"]
v = b["validate"]
wv = v["processed"] / v["runtime_sec"]
print(f"validate ({vlines:,} lines, seeded sandbox, no latency):")
print(f"  native CLI  {native['total_records_processed']:,} payloads in {native['runtime_sec']:.2f}s (wall {t1 - t0:.2f}s): {nv:,.0f} lines/s, {native['total_records_failed']} failed")
print(f"  wasm        {v['processed']:,} payloads in {v['runtime_sec']:.2f}s (wall {v['wall_sec']:.2f}s): {wv:,.0f} lines/s, {v['failed']} failed")
print(f"  wasm / native: {wv / nv:.2f}")
h = b["read_hash"]
hn = int(nh_lines) / float(nh_secs)
hw = h["lines"] / h["seconds"]
print(f"read + hash (100,000 lines, 1 MiB chunks):")
print(f"  native core {hn:,.0f} lines/s;  wasm {hw:,.0f} lines/s;  wasm / native: {hw / hn:.2f}")
s = b["send"]
ws = (s["processed"] - s["failed"]) / s["runtime_sec"]
limit = 6 / 0.020
print(f"send ({slines:,} lines, sandbox --latency-ms 20, pool_size 6):")
print(f"  wasm        {s['processed']:,} payloads ({s['failed']} failed) in {s['runtime_sec']:.2f}s: {s['processed'] / s['runtime_sec']:,.0f} requests/s")
print(f"  browser limit 6 connections / 20 ms = {limit:.0f}/s;  share of the limit: {s['processed'] / s['runtime_sec'] / limit:.0%}")
print(f"bundle: {sys.argv[8].split('(', 1)[1].rstrip(')')}")
PY
