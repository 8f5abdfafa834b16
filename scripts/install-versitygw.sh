#!/usr/bin/env bash
# Install versitygw (the Versity S3 Gateway), pinned, into .tools/bin/versitygw.
# Idempotent: does nothing when the binary there is already the pinned version.
# The first build takes ~2 minutes (go downloads and compiles the module graph).
set -euo pipefail

VERSION="${VERSITYGW_VERSION:-v1.8.0}"
MODULE="github.com/versity/versitygw"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/versitygw"

# `go version -m` reads the module version the binary was built from, so a stale
# binary from an older pin gets replaced (the binary's own --version says "git").
installed_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }' || true
}

if [[ -x "$BIN" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "versitygw: using $BIN (go not on PATH, version not checked)"
    exit 0
  fi
  have="$(installed_version "$BIN")"
  if [[ "$have" == "$VERSION" ]]; then
    echo "versitygw: using $BIN ($have)"
    exit 0
  fi
  echo "versitygw: $BIN is ${have:-of unknown version}, want $VERSION; reinstalling"
elif ! command -v go >/dev/null 2>&1; then
  echo "versitygw: 'go' is not on PATH; install Go to build $MODULE@$VERSION" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "versitygw: go install $MODULE/cmd/versitygw@$VERSION -> $BIN (takes ~2 min the first time)"
start=$SECONDS
GOBIN="$BIN_DIR" go install "$MODULE/cmd/versitygw@$VERSION"
echo "versitygw: built in $((SECONDS - start))s; using $BIN ($(installed_version "$BIN"))"
