#!/usr/bin/env bash
# Builds the Python wheel `lightbeam-rs` that ships the native `lightbeam` binary (pyproject.toml:
# maturin, bindings = "bin"). By default a manylinux2014 wheel, linked by zig against glibc 2.17, so
# it installs on any x86_64 Linux of the last ten years (Airflow workers included). maturin and
# ziglang come from PyPI into .venv-build/ (idempotent).
# Usage: bash scripts/build-wheel.sh [--host] [OUT_DIR]   (default OUT_DIR: target/wheels)
#   --host: link with this machine's toolchain instead (a wheel for this glibc and newer; quicker,
#           it reuses target/release; the install test uses it)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
HOST=0
if [ "${1:-}" = "--host" ]; then HOST=1; shift; fi
OUT=${1:-target/wheels}
MATURIN_VERSION=1.16.0
ZIG_VERSION=0.17.0
VENV=.venv-build
if [ ! -x "$VENV/bin/maturin" ] || [ "$("$VENV/bin/maturin" --version)" != "maturin $MATURIN_VERSION" ]; then
  echo "build-wheel: installing maturin $MATURIN_VERSION into $VENV" >&2
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION" >&2
fi
args=(build --release --out "$OUT")
if [ "$HOST" = 0 ]; then
  if [ "$("$VENV/bin/python" -m ziglang version 2>/dev/null)" != "$ZIG_VERSION" ]; then
    echo "build-wheel: installing ziglang $ZIG_VERSION into $VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "ziglang==$ZIG_VERSION" >&2
  fi
  args+=(--zig --compatibility manylinux2014 --target x86_64-unknown-linux-gnu)
fi
mkdir -p "$OUT"
rm -f "$OUT"/lightbeam_rs-*.whl
PATH="$PWD/$VENV/bin:$PATH" maturin "${args[@]}" >&2
wheel=$(realpath "$OUT"/lightbeam_rs-*.whl)
echo "build-wheel: $wheel ($(( $(stat -c %s "$wheel") / 1024 )) KiB)" >&2
echo "$wheel"
