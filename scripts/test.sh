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
