#!/usr/bin/env bash
# Builds the web app into a self-contained dist/ (index.html, style.css, pkg/*.js + *.wasm):
# cargo (profile web, wasm32) -> wasm-bindgen --target web -> wasm-opt -Oz (npm binaryen, never
# Debian's). Usage: bash scripts/build-web.sh [--dev] [OUT_DIR]   (--dev: skip wasm-opt)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
OPT=1
if [ "${1:-}" = "--dev" ]; then OPT=0; shift; fi
OUT=${1:-dist}
if [ ! -x web/node_modules/.bin/wasm-opt ] && [ "$OPT" = 1 ]; then
  (cd web && npm ci --no-audit --no-fund --silent)
fi
cargo build -q --profile web --target wasm32-unknown-unknown -p lightbeam-web
rm -rf "$OUT"
mkdir -p "$OUT/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$OUT/pkg" \
  target/wasm32-unknown-unknown/web/lightbeam_web.wasm
if [ "$OPT" = 1 ]; then
  web/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$OUT/pkg/lightbeam_web_bg.wasm" -o "$OUT/pkg/lightbeam_web_bg.opt.wasm"
  mv "$OUT/pkg/lightbeam_web_bg.opt.wasm" "$OUT/pkg/lightbeam_web_bg.wasm"
fi
cp index.html "$OUT/index.html"
cp web/style.css "$OUT/style.css"
wasm_bytes=$(stat -c %s "$OUT/pkg/lightbeam_web_bg.wasm")
gz_bytes=$(( $(gzip -9 -c "$OUT/pkg/lightbeam_web_bg.wasm" | wc -c) + $(gzip -9 -c "$OUT/pkg/lightbeam_web.js" | wc -c) ))
echo "build-web: $OUT/ ready (wasm $((wasm_bytes / 1024)) KiB; wasm + JS gzipped $((gz_bytes / 1024)) KiB)"
