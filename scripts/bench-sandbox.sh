#!/usr/bin/env bash
# POST throughput of edfi-sandbox with 8 concurrent keep-alive connections, measured by wrk
# (Debian package; installed here if missing). Prints wrk's figures, wrk's own CPU per request (the
# floor for a client that writes one request per syscall on this machine) and the sandbox's counts.
# Usage: bash scripts/bench-sandbox.sh [SECONDS [SANDBOX_ARGS...]]   e.g. 10 --latency-ms 20 (wrk's
# CPU per request under latency: what any client pays here for waking up once per answer)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
trap stop_sandboxes EXIT
SECONDS_RUN=${1:-10}
shift || true
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q -p edfi-sandbox
start_sandbox url "$@"
token=$(curl -s -u testkey:testsecret -d grant_type=client_credentials "$url/oauth/token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
lua=$(mktemp --suffix=.lua)
cat >"$lua" <<LUA
-- every request a new student (thread id + counter), so each POST is a create (201)
local counter = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("tid", threads) end
request = function()
  counter = counter + 1
  local body = '{"studentUniqueId":"' .. tid .. '-' .. counter .. '","birthDate":"2010-01-01","firstName":"Ada","lastSurname":"Lovelace"}'
  return wrk.format("POST", "/data/v3/ed-fi/students", {["Content-Type"]="application/json", ["Authorization"]="Bearer $token"}, body)
end
LUA
cpu=$(mktemp)
/usr/bin/time -f "%U %S" -o "$cpu" wrk -t2 -c8 -d"${SECONDS_RUN}s" -s "$lua" "$url" | tee "$cpu.out"
requests=$(awk '/requests in/ {print $1}' "$cpu.out")
awk -v n="$requests" '{printf "client CPU (wrk): user %.2f s + sys %.2f s = %.1f us per request: what a lean C client costs here, mostly loopback TCP in the kernel\n", $1, $2, ($1 + $2) * 1e6 / n}' "$cpu"
rm -f "$cpu" "$cpu.out"
curl -s "$url/_sandbox/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print("sandbox: POST statuses", s["requests"].get("POST"), "students", s["records"]["ed-fi/students"])'
rm -f "$lua"
