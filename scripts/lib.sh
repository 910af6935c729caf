# Shared shell helpers of the scripts: the Ed-Fi files beside the repository, starting sandboxes.
SHARED_EDFI="${SHARED_EDFI:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/edfi}"
SANDBOX_DOCS=(
  --resources-openapi "$SHARED_EDFI/openapi/odsapi-7.x_resources_openapi3_ds5.0.json"
  --descriptors-openapi "$SHARED_EDFI/openapi/odsapi-7.x_descriptors_openapi3_ds5.0.json"
  --dependencies "$SHARED_EDFI/dependencies/odsapi-7.x_ds-5.2.0_dependencies.json"
  --seed-dir "$SHARED_EDFI/descriptors/ds-5.2.0_jsonl"
)
SANDBOX_PIDS=()

# start_sandbox VAR [extra serve args...]: starts a seeded DS 5.0 sandbox, sets VAR to its URL.
start_sandbox() {
  local var=$1; shift
  local out; out=$(mktemp)
  target/release/edfi-sandbox serve "${SANDBOX_DOCS[@]}" "$@" >"$out" 2>/dev/null &
  SANDBOX_PIDS+=($!)
  for _ in $(seq 1 200); do
    if [ -s "$out" ]; then break; fi
    sleep 0.05
  done
  printf -v "$var" '%s' "$(head -n1 "$out")"
  rm -f "$out"
}

stop_sandboxes() {
  for p in "${SANDBOX_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  SANDBOX_PIDS=()
}

# write_config DIR URL POOL [LOG_LEVEL] [DATA_DIR]: a lightbeam.yaml for the sandbox at URL
# (data in DATA_DIR, by default DIR/data/).
write_config() {
  mkdir -p "$1"
  cat >"$1/lightbeam.yaml" <<YAML
state_dir: $1/state
data_dir: ${5:-$1/data/}
edfi_api:
  base_url: $2
  mode: shared_instance
  client_id: testkey
  client_secret: testsecret
connection:
  pool_size: $3
  verify_ssl: true
log_level: ${4:-WARNING}
YAML
}
