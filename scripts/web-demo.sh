#!/usr/bin/env bash
# The web app against a local seeded edfi-sandbox: builds both, generates a school system, starts
# the sandbox, writes a config for it next to the app and serves the app on another port (so the
# page calls the API cross-origin, as it would a real ODS/API). Open the printed URL: the config
# is loaded; drop the generated files (printed folder) on the page, then Validate / Send.
# Usage: bash scripts/web-demo.sh [STUDENTS]   (default 200); WEB_PORT=8080; DEMO_DIR=dir keeps files.
# WEB_DEMO_CHECK=1: start, check that the page and the API answer, and stop (for CI).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
STUDENTS=${1:-200}
PORT=${WEB_PORT:-8080}
cargo build --release -q -p edfi-sandbox
bash scripts/build-web.sh
work=${DEMO_DIR:-$(mktemp -d)}
mkdir -p "$work"
site="$work/site"
rm -rf "$site"
cp -r dist "$site"
target/release/edfi-sandbox generate --out "$work/data" --students "$STUDENTS" --rng-seed 1 >/dev/null
start_sandbox url
server_pid=""
cleanup() {
  stop_sandboxes
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
mkdir -p "$site/demo"
# the sandbox's well-known test credentials (never a real secret in a served file)
cat >"$site/demo/lightbeam.yaml" <<YAML
edfi_api:
  base_url: $url
  mode: shared_instance
  client_id: testkey
  client_secret: testsecret
connection:
  pool_size: 6
YAML
python3 -m http.server --bind 127.0.0.1 --directory "$site" "$PORT" >/dev/null 2>&1 &
server_pid=$!
page="http://127.0.0.1:$PORT/?config=demo/lightbeam.yaml"
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break
  sleep 0.1
done
echo "== edfi-sandbox (API):   $url"
echo "== web app:              $page"
echo "== data files to drop:   $work/data"
if [ "${WEB_DEMO_CHECK:-0}" = 1 ]; then
  wasm=$(cd "$site" && ls pkg/lightbeam_web_bg-*.wasm)
  curl -sf "http://127.0.0.1:$PORT/$wasm" -o /dev/null
  curl -sf "http://127.0.0.1:$PORT/demo/lightbeam.yaml" -o /dev/null
  curl -sf "$url/" -o /dev/null
  echo "web-demo: page, config and API answer"
  exit 0
fi
echo "(Ctrl-C stops the sandbox and the web server)"
wait "$server_pid"
