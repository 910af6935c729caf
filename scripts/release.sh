#!/usr/bin/env bash
# Builds the release artifacts into OUT_DIR (default target/release-artifacts), with SHA256SUMS:
#   lightbeam_rs-VERSION-py3-none-manylinux2014_x86_64...whl   pip install; puts `lightbeam` on PATH
#   lightbeam-VERSION-x86_64-linux.tar.gz                        the same binary, README, LICENSE
#   edfi-sandbox-VERSION-x86_64-linux.tar.gz                     the sandbox (linked on this machine)
#   lightbeam-web-VERSION.tar.gz                                 the static page (hashed file names)
# Usage: bash scripts/release.sh [--host] [OUT_DIR]
#   --host: the wheel and CLI linked for this machine's glibc instead of manylinux2014 (quicker;
#           scripts/test.sh uses it to test the artifacts themselves)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
HOST=()
if [ "${1:-}" = "--host" ]; then HOST=(--host); shift; fi
OUT=${1:-target/release-artifacts}
VERSION=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
rm -rf "$OUT"
mkdir -p "$OUT"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# the wheel, and the CLI tarball with the very binary the wheel ships
wheel=$(bash scripts/build-wheel.sh "${HOST[@]}" "$OUT")
cli="$stage/lightbeam-$VERSION-x86_64-linux"
mkdir -p "$cli"
python3 - "$wheel" "$cli/lightbeam" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/lightbeam"))
    open(dest, "wb").write(z.read(name))
PY
chmod 755 "$cli/lightbeam"
cp README.md LICENSE CHANGELOG.md "$cli/"
tar -C "$stage" -czf "$OUT/lightbeam-$VERSION-x86_64-linux.tar.gz" "$(basename "$cli")"

# the sandbox
cargo build --release -q -p edfi-sandbox
sb="$stage/edfi-sandbox-$VERSION-x86_64-linux"
mkdir -p "$sb"
cp target/release/edfi-sandbox "$sb/"
strip "$sb/edfi-sandbox" 2>/dev/null || true
cp README.md LICENSE "$sb/"
tar -C "$stage" -czf "$OUT/edfi-sandbox-$VERSION-x86_64-linux.tar.gz" "$(basename "$sb")"

# the web page
web="$stage/lightbeam-web-$VERSION"
bash scripts/build-web.sh "$web" >&2
tar -C "$stage" -czf "$OUT/lightbeam-web-$VERSION.tar.gz" "$(basename "$web")"

(cd "$OUT" && sha256sum -- *.whl *.tar.gz >SHA256SUMS)
echo "release $VERSION ($("$cli/lightbeam" -v)):"
(cd "$OUT" && for f in *.whl *.tar.gz; do printf '  %-72s %6d KiB\n' "$f" $(( $(stat -c %s "$f") / 1024 )); done)
echo "  SHA256SUMS; web bundle files: $(cd "$web" && find . -type f | sort | tr '\n' ' ')"
