#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), then checks formatting,
# lints and runs every test against real edfi-sandbox processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LIGHTBEAM_PY="$PWD/.venv/bin/lightbeam"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The release artifacts as scripts/release.sh builds them (wheel and CLI linked for this machine:
# --host); the tests install this wheel (tests/install.rs) and serve this web bundle (web/tests).
bash scripts/release.sh --host target/release-test
LIGHTBEAM_WHEEL=$(ls "$PWD"/target/release-test/lightbeam_rs-*.whl)
export LIGHTBEAM_WHEEL
rm -rf target/release-test/web && mkdir -p target/release-test/web
tar -xzf target/release-test/lightbeam-web-*.tar.gz -C target/release-test/web
WEB_DIST=$(ls -d "$PWD"/target/release-test/web/lightbeam-web-*)
export WEB_DIST
cargo test --workspace
# The core's unit tests again, compiled to wasm32 and run in node by wasm-bindgen-test-runner
# (.cargo/config.toml); tests that read the ../shared files are native-only.
export PATH="$HOME/.cargo/bin:$PATH"
cargo clippy -p lightbeam-core --target wasm32-unknown-unknown --all-targets -- -D warnings
cargo test --target wasm32-unknown-unknown -p lightbeam-core --lib --tests
# A fuzz smoke of the input parsers (config loader, JSONL reader, API error bodies): cargo fuzz,
# installed if missing, on the stable toolchain with RUSTC_BOOTSTRAP=1; 25 s per target.
bash scripts/fuzz.sh 25
# The web app (crates/web): lints for wasm32; its browser adapters (IndexedDB, File reading, fetch
# against a sandbox with latency, for the whole-request timeout) in headless Chromium through
# wasm-bindgen-test-runner + chromedriver; then the release's web bundle end to end with
# playwright-core (web/tests: against a sandbox on another port than the page, cross-origin; the
# bundle's hashed names; served by nginx and Apache with the hosting guide's configs).
cargo clippy -p lightbeam-web --target wasm32-unknown-unknown --all-targets -- -D warnings
cargo build --release -q -p edfi-sandbox
(
  source scripts/lib.sh
  trap stop_sandboxes EXIT
  # many browser tests, each its own session and token: the ODS/API's cap of 15 is lifted
  start_sandbox web_api --latency-ms 300 --token-limit 100000
  LIGHTBEAM_TEST_API="$web_api" CHROMEDRIVER=/usr/bin/chromedriver \
    WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/crates/web/webdriver.json" \
    cargo test -p lightbeam-web --target wasm32-unknown-unknown --tests
)
(cd web && node --test tests/)
