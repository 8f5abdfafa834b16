#!/usr/bin/env bash
# Install the Node.js release that .nvmrc pins into .tools/node, from the npm registry's
# node-linux-<arch> package (the official binary, published as an npm package), so every
# make target runs on the project's Node line whatever the machine has. Idempotent: returns
# at once when .tools/node/bin/node is that version.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WANT="$(tr -d ' \t\r\n' < "$ROOT/.nvmrc")"
DEST="$ROOT/.tools/node"

if [[ -x "$DEST/bin/node" ]] && [[ "$("$DEST/bin/node" --version)" == "v$WANT" ]]; then
  exit 0
fi

case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node: no node-linux package for $(uname -m); install Node $WANT yourself" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "install-node: npm is needed to fetch node-linux-$arch@$WANT" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "install-node: node-linux-$arch@$WANT into .tools/node"
tarball="$(cd "$work" && npm pack --silent "node-linux-$arch@$WANT")"
tar -xzf "$work/$tarball" -C "$work"
rm -rf "$DEST"
mkdir -p "$ROOT/.tools"
mv "$work/package" "$DEST"
"$DEST/bin/node" --version >/dev/null
