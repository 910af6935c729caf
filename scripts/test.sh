#!/usr/bin/env bash
# The test command: installs what the tests need (idempotent), then checks formatting,
# lints and runs every test against real edfi-sandbox processes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export LIGHTBEAM_PY="$PWD/.venv/bin/lightbeam"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The core's unit tests again, compiled to wasm32 and run in node by wasm-bindgen-test-runner
# (.cargo/config.toml); tests that read the ../shared files are native-only.
export PATH="$HOME/.cargo/bin:$PATH"
cargo clippy -p lightbeam-core --target wasm32-unknown-unknown --all-targets -- -D warnings
cargo test --target wasm32-unknown-unknown -p lightbeam-core --lib --tests
