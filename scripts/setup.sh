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
