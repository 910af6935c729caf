#!/usr/bin/env bash
# Installs, idempotently, what the tests need beyond the Rust toolchain:
# the Python lightbeam (reference client for parity tests) in .venv/.
set -euo pipefail
cd "$(dirname "$0")/.."

PY_LIGHTBEAM_VERSION=0.1.12
if ! .venv/bin/python -c "import lightbeam" 2>/dev/null \
   || [ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("lightbeam"))' 2>/dev/null)" != "$PY_LIGHTBEAM_VERSION" ]; then
  echo "setup: installing the Python lightbeam $PY_LIGHTBEAM_VERSION into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "lightbeam==$PY_LIGHTBEAM_VERSION"
fi
echo "setup: Python lightbeam $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("lightbeam"))') ready"

# The wasm32 target and wasm-bindgen-cli (the web app's build, and the core's tests as wasm32 in node).
bash scripts/setup-wasm.sh

# The web app's browser tests (scripts/test.sh): Debian's Chromium and ChromeDriver, and the npm
# tools pinned in web/package-lock.json (playwright-core, binaryen's wasm-opt; never Debian's binaryen).
# The hosting guide's configs (deploy/) are tested with Debian's nginx and apache2, started by the
# tests themselves on free ports (the packages' own services are not used).
APT_NEED=""
command -v chromium >/dev/null 2>&1 || APT_NEED="$APT_NEED chromium"
command -v chromedriver >/dev/null 2>&1 || APT_NEED="$APT_NEED chromium-driver"
[ -x /usr/sbin/nginx ] || APT_NEED="$APT_NEED nginx"
[ -x /usr/sbin/apache2 ] || APT_NEED="$APT_NEED apache2"
if [ -n "$APT_NEED" ]; then
  echo "setup: installing$APT_NEED (apt)"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -q $APT_NEED \
    || { $SUDO apt-get update -q && $SUDO apt-get install -y -q $APT_NEED; }
fi
if [ ! -x web/node_modules/.bin/wasm-opt ] || [ ! -d web/node_modules/playwright-core ] \
   || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "setup: npm ci in web/ (playwright-core, binaryen)"
  (cd web && npm ci --no-audit --no-fund)
fi
echo "setup: $(chromium --version 2>/dev/null | head -1), $(/usr/sbin/nginx -v 2>&1), $(/usr/sbin/apache2 -v | head -1), web/node_modules ready"
