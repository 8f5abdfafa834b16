#!/usr/bin/env bash
# Make LocalStack's S3 available for the third test tier (scripts/s3-server.mjs kind
# `localstack`): localstack-core from PyPI in .tools/localstack-venv, run without Docker.
# Idempotent and quiet when it is in place. LocalStack's S3 needs Python >= 3.13 (3.11 fails
# on its syntax, 3.12 on `from warnings import deprecated`); where none exists this says so in
# one line and exits 0: the tier is skipped.
# The pins below are what LocalStack 2026.3.0 runs with here: newer cbor2, pyOpenSSL and
# cryptography releases break its start.
set -euo pipefail

SPECS=("localstack-core[base-runtime]==2026.3.0" "service-identity" "cbor2<6" "pyopenssl<26" "cryptography<47")
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/localstack-venv"
STAMP="$VENV/.installed"

# The gateway's components import what the S3 provider needs: a venv on too old a Python fails here.
works() { [[ -f "$STAMP" ]] && "$VENV/bin/python" -c 'import localstack.aws.components' >/dev/null 2>&1; }

if works && [[ "$(cat "$STAMP")" == "${SPECS[*]}" ]]; then
  exit 0
fi

# A Python >= 3.13: $LOCALSTACK_PYTHON, then python3.14/python3.13/python3 on PATH, then pyenv's
# (newest first). pyenv's shims are on PATH but fail unless their version is active: checked.
is_recent() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' >/dev/null 2>&1; }
find_python() {
  local candidate pyenv_pythons
  mapfile -t pyenv_pythons < <(printf "%s\n" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.*/bin/python3 | sort -rV)
  for candidate in "${LOCALSTACK_PYTHON:-}" python3.14 python3.13 python3 "${pyenv_pythons[@]}"; do
    [[ -n "$candidate" ]] || continue
    if command -v "$candidate" >/dev/null 2>&1 && is_recent "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! PYTHON="$(find_python)"; then
  echo "localstack: no Python >= 3.13 found (set LOCALSTACK_PYTHON to one); the LocalStack test tier is skipped" >&2
  exit 0
fi

echo "localstack: installing ${SPECS[*]} into $VENV with $PYTHON"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${SPECS[@]}"
printf '%s\n' "${SPECS[*]}" >"$STAMP"
"$VENV/bin/python" -c 'import localstack.aws.components'
echo "localstack: installed in $VENV"
