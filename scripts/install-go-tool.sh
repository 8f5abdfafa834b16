#!/usr/bin/env bash
# Install a Go program, pinned, into .tools/bin/NAME with `go install`:
#   scripts/install-go-tool.sh NAME MODULE PACKAGE VERSION
# (PACKAGE is the module's main package path: the module itself, or MODULE/cmd/NAME).
# Idempotent: does nothing when the binary there was built from the pinned module version.
set -euo pipefail

if [[ $# -ne 4 ]]; then
  echo "usage: $0 NAME MODULE PACKAGE VERSION" >&2
  exit 2
fi
NAME=$1 MODULE=$2 PACKAGE=$3 VERSION=$4

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/$NAME"

# `go version -m` reads the module version the binary was built from, so a stale
# binary from an older pin gets replaced (a binary's own --version may say "git").
installed_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }' || true
}

if [[ -x "$BIN" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "$NAME: using $BIN (go not on PATH, version not checked)"
    exit 0
  fi
  have="$(installed_version "$BIN")"
  if [[ "$have" == "$VERSION" ]]; then
    echo "$NAME: using $BIN ($have)"
    exit 0
  fi
  echo "$NAME: $BIN is ${have:-of unknown version}, want $VERSION; reinstalling"
elif ! command -v go >/dev/null 2>&1; then
  echo "$NAME: 'go' is not on PATH; install Go to build $MODULE@$VERSION" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "$NAME: go install $PACKAGE@$VERSION -> $BIN (takes a minute or two the first time)"
start=$SECONDS
GOBIN="$BIN_DIR" go install "$PACKAGE@$VERSION"
echo "$NAME: built in $((SECONDS - start))s; using $BIN ($(installed_version "$BIN"))"
