#!/usr/bin/env bash
# scripts/build-prod-tree.sh OUT_DIR
#
# The tree the compactor image runs, made from a built checkout (`make build` first): the
# two shipped CLIs (compactor, log-reader), each its package.json, bin/ shim and bundle/
# (scripts/bundle-clis.mjs: one ES module with lazily loaded chunks, the dependencies inside,
# source maps and THIRD-PARTY-NOTICES.txt). No node_modules/: the bundles need none. The
# testkit, the dev dependencies, the sources and the unbundled dist/ stay out. OUT_DIR/bin
# holds `compactor` and `log-reader`, to put first on PATH.
#
# The Dockerfile's build stage runs this script, and test/image.test.ts runs the tree it
# makes read-only, without Docker: one set of commands, so the two cannot drift. Nothing
# in the tree points back at the checkout, so it runs from wherever it is copied to.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shipped=(log-reader compactor)

if [[ -e $out && -n $(ls -A "$out") ]]; then
  echo "$0: $out is not empty: give a new or empty directory" >&2
  exit 2
fi
for p in "${shipped[@]}"; do
  if [[ ! -f $root/packages/$p/bundle/bin.js ]]; then
    echo "$0: packages/$p is not built (no bundle/bin.js): run 'make build' first" >&2
    exit 2
  fi
  # A bundle older than the compiled code would ship yesterday's CLI.
  if [[ -n $(find "$root/packages/$p/dist" -type f -newer "$root/packages/$p/bundle/bin.js" -print -quit) ]]; then
    echo "$0: packages/$p/bundle is older than its dist/: run 'make build' (or node scripts/bundle-clis.mjs) first" >&2
    exit 2
  fi
done

mkdir -p "$out/packages" "$out/bin"
for p in "${shipped[@]}"; do
  mkdir "$out/packages/$p"
  cp -R "$root/packages/$p/package.json" "$root/packages/$p/bin" "$root/packages/$p/bundle" "$out/packages/$p/"
done

# Relative links: the bin shims find bundle/ next to their own real path, as under npx.
ln -s ../packages/compactor/bin/compactor.js "$out/bin/compactor"
ln -s ../packages/log-reader/bin/log-reader.js "$out/bin/log-reader"
