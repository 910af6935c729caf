#!/usr/bin/env bash
# The main job on the embedded default: generate a school system, start a seeded local
# edfi-sandbox, send everything with lightbeam, then send again (all skipped, exit 99).
# Usage: bash scripts/demo.sh [STUDENTS]   (default 500); DEMO_DIR=dir keeps the files.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
STUDENTS=${1:-500}
cargo build --release -q -p lightbeam-cli -p edfi-sandbox
work=${DEMO_DIR:-$(mktemp -d)}
mkdir -p "$work"
echo "== generating $STUDENTS students into $work/data"
target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" --rng-seed 1 >/dev/null
start_sandbox url
echo "== edfi-sandbox listening on $url"
write_config "$work" "$url" 8 INFO
echo "== lightbeam send"
target/release/lightbeam send -c "$work/lightbeam.yaml" --results-file "$work/results.json"
echo "== lightbeam send again (everything already sent: skipped, exit code 99)"
set +e
target/release/lightbeam send -c "$work/lightbeam.yaml"
code=$?
set -e
echo "exit code: $code"
echo "== records in the sandbox"
curl -s "$url/_sandbox/stats" | python3 -c '
import json, sys
stats = json.load(sys.stdin)
for endpoint, n in stats["records"].items():
    if n and not endpoint.endswith("Descriptors") and endpoint != "ed-fi/schoolYearTypes":
        print(f"{n:>8}  {endpoint}")
print("creates {}, requests {}".format(stats["creates"], stats["requests"]))'
echo "== results file: $work/results.json"
[ "$code" = 99 ]
