#!/usr/bin/env bash
# Builds the web app into a self-contained dist/ (index.html, style-HASH.css, pkg/*-HASH.js + .wasm):
# cargo (profile web, wasm32) -> wasm-bindgen --target web -> wasm-opt -Oz (npm binaryen, never
# Debian's) into target/web-pkg/, then scripts/web-bundle.sh names the files by their content.
# Installs what it needs first (scripts/setup-wasm.sh; npm ci in web/ for wasm-opt).
# Usage: bash scripts/build-web.sh [--dev] [OUT_DIR]   (--dev: skip wasm-opt)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
OPT=1
if [ "${1:-}" = "--dev" ]; then OPT=0; shift; fi
OUT=${1:-dist}
# the wasm32 target and wasm-bindgen-cli (idempotent: a fresh machine gets them here)
bash scripts/setup-wasm.sh >&2
if [ ! -x web/node_modules/.bin/wasm-opt ] && [ "$OPT" = 1 ]; then
  (cd web && npm ci --no-audit --no-fund --silent)
fi
cargo build -q --profile web --target wasm32-unknown-unknown -p lightbeam-web
PKG=target/web-pkg
rm -rf "$PKG"
mkdir -p "$PKG"
wasm-bindgen --target web --no-typescript --out-dir "$PKG" \
  target/wasm32-unknown-unknown/web/lightbeam_web.wasm
if [ "$OPT" = 1 ]; then
  web/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$PKG/lightbeam_web_bg.wasm" -o "$PKG/lightbeam_web_bg.opt.wasm"
  mv "$PKG/lightbeam_web_bg.opt.wasm" "$PKG/lightbeam_web_bg.wasm"
fi
bash scripts/web-bundle.sh "$PKG" "$OUT"
wasm_bytes=$(stat -c %s "$PKG/lightbeam_web_bg.wasm")
gz_bytes=$(( $(gzip -9 -c "$PKG/lightbeam_web_bg.wasm" | wc -c) + $(gzip -9 -c "$PKG/lightbeam_web.js" | wc -c) ))
echo "build-web: $OUT/ ready (wasm $((wasm_bytes / 1024)) KiB; wasm + JS gzipped $((gz_bytes / 1024)) KiB)"
