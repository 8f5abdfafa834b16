#!/usr/bin/env bash
# Install kustomize, pinned, into .tools/bin/kustomize: test/k8s-manifests.test.ts builds the
# overlays in k8s/ with it. (kubectl has kustomize built in, but kubectl is not on every
# machine and its kustomize version follows kubectl's.)
# Idempotent: does nothing when the binary there is already the pinned version.
set -euo pipefail

VERSION="${KUSTOMIZE_VERSION:-v5.5.0}"
MODULE="sigs.k8s.io/kustomize/kustomize/v5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/kustomize"

# `go version -m` reads the module version the binary was built from.
installed_version() {
  go version -m "$1" 2>/dev/null | awk -v m="$MODULE" '$1 == "mod" && $2 == m { print $3 }' || true
}

if [[ -x "$BIN" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "kustomize: using $BIN (go not on PATH, version not checked)"
    exit 0
  fi
  have="$(installed_version "$BIN")"
  if [[ "$have" == "$VERSION" ]]; then
    echo "kustomize: using $BIN ($have)"
    exit 0
  fi
  echo "kustomize: $BIN is ${have:-of unknown version}, want $VERSION; reinstalling"
elif ! command -v go >/dev/null 2>&1; then
  echo "kustomize: 'go' is not on PATH; install Go to build $MODULE@$VERSION" >&2
  exit 1
fi

mkdir -p "$BIN_DIR"
echo "kustomize: go install $MODULE@$VERSION -> $BIN (takes ~1 min the first time)"
start=$SECONDS
GOBIN="$BIN_DIR" go install "$MODULE@$VERSION"
echo "kustomize: built in $((SECONDS - start))s; using $BIN ($(installed_version "$BIN"))"
