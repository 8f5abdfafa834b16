#!/usr/bin/env bash
# The Python packages the bench's optional Python anchor imports (the original's S3 path
# through an anchor directory given with BENCH_PYTHON_ANCHOR; see docs/performance.md):
# installs them from PyPI into .tools/python-anchor, a venv (idempotent). The bench uses
# .tools/python-anchor/bin/python when it exists, else BENCH_PYTHON, else python3.
# Only public PyPI packages: nothing of the original is fetched here.
set -euo pipefail

# The versions the original pins (orjson, cachetools, iso8601; its aiobotocore 2.22 uses botocore 1.37).
SPECS=("boto3==1.37.*" "cachetools==5.5.2" "iso8601==2.1.0" "orjson==3.10.18")
MODULES="boto3, cachetools, iso8601, orjson"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/python-anchor"
PYTHON="${PYTHON:-python3}"

if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c "import $MODULES" >/dev/null 2>&1; then
  echo "python anchor: using $VENV/bin/python ($MODULES present)"
  exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "python anchor: '$PYTHON' is not on PATH; install Python >= 3.11 (with venv)" >&2
  exit 1
fi
echo "python anchor: installing ${SPECS[*]} into $VENV"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${SPECS[@]}"
echo "python anchor: using $VENV/bin/python"
