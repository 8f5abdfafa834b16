#!/usr/bin/env bash
# Make moto's S3 server available for the tests. Uses the moto_server on PATH when
# it works; otherwise installs moto[server] 5.2.x into .tools/venv (idempotent).
# scripts/s3-server.mjs prefers .tools/venv/bin/moto_server when it exists.
set -euo pipefail

SPEC="moto[server]==5.2.*"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
PYTHON="${PYTHON:-python3}"

works() { # $1: moto_server path, $2: the python that owns it
  [[ -x "$1" ]] && "$2" -c 'import moto.server' >/dev/null 2>&1
}
version_of() { "$1" -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?'; }

if works "$VENV/bin/moto_server" "$VENV/bin/python"; then
  echo "moto: using $VENV/bin/moto_server (moto $(version_of "$VENV/bin/python"))"
  exit 0
fi

if on_path="$(command -v moto_server)" && works "$on_path" "$PYTHON"; then
  echo "moto: using $on_path from PATH (moto $(version_of "$PYTHON"))"
  exit 0
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "moto: '$PYTHON' is not on PATH; install Python >= 3.9 (with venv) to get moto" >&2
  exit 1
fi

echo "moto: no working moto_server on PATH; installing '$SPEC' into $VENV"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC"
echo "moto: using $VENV/bin/moto_server (moto $(version_of "$VENV/bin/python"))"
