#!/usr/bin/env bash
# Installs, idempotently, what building the web app and running the core's tests as wasm32 need:
# the Rust target wasm32-unknown-unknown and wasm-bindgen-cli at the version Cargo.lock resolves.
# Called by scripts/setup.sh and scripts/build-web.sh (so the web app builds on a fresh machine).
set -euo pipefail
cd "$(dirname "$0")/.."
# The core's unit tests also run as wasm32 in node (scripts/test.sh): they need the wasm32 target and
# wasm-bindgen-cli (wasm-bindgen-test-runner, the runner named in .cargo/config.toml), whose version must
# equal the wasm-bindgen that Cargo.lock resolves (0.2.130, via wasm-bindgen-test =0.3.80).
export PATH="$HOME/.cargo/bin:$PATH"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  echo "setup-wasm: adding the Rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
WASM_BINDGEN_VERSION=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WASM_BINDGEN_VERSION" ]; then
  echo "setup-wasm: no wasm-bindgen in Cargo.lock; cannot tell which wasm-bindgen-cli to install" >&2
  exit 1
fi
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $WASM_BINDGEN_VERSION" ]; then
  echo "setup-wasm: installing wasm-bindgen-cli $WASM_BINDGEN_VERSION into ~/.cargo/bin (about 2-3 min)"
  # --locked first; it fails when a locked dependency is missing from the registry mirror, then without it
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo" --locked --force \
    || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --root "$HOME/.cargo" --force
fi
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" != "wasm-bindgen-test-runner $WASM_BINDGEN_VERSION" ]; then
  echo "setup-wasm: wasm-bindgen-test-runner on PATH is '$(wasm-bindgen-test-runner --version 2>&1 || true)', need $WASM_BINDGEN_VERSION" >&2
  exit 1
fi
echo "setup-wasm: wasm32-unknown-unknown and $(wasm-bindgen-test-runner --version) ready"
