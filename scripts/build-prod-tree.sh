#!/usr/bin/env bash
# scripts/build-prod-tree.sh OUT_DIR
#
# The tree the compactor image runs, made from a built checkout (`npx tsc -b` first): the
# two shipped packages (compactor, @platform/log-reader) with their package.json, bin/ and
# dist/, and their production dependencies installed by `npm ci --omit=dev` from the lock
# file. The testkit, the dev dependencies and the sources stay out. OUT_DIR/bin holds
# `compactor` and `log-reader`, to put first on PATH.
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
  if [[ ! -f $root/packages/$p/dist/bin.js ]]; then
    echo "$0: packages/$p is not built (no dist/bin.js): run 'npx tsc -b' (make build) first" >&2
    exit 2
  fi
done

mkdir -p "$out/packages" "$out/bin"
cp "$root/package.json" "$root/package-lock.json" "$out/"
for p in "${shipped[@]}"; do
  mkdir "$out/packages/$p"
  cp -R "$root/packages/$p/package.json" "$root/packages/$p/bin" "$root/packages/$p/dist" "$out/packages/$p/"
  rm -f "$out/packages/$p/dist/.tsbuildinfo"
done

# npm ci installs exactly what the lock file lists. --workspace keeps it to the two shipped
# packages' dependencies: the testkit (a workspace too, whose directory is not copied) is
# neither installed nor linked, and --omit=dev leaves the root's devDependencies out.
# --ignore-scripts: no dependency of theirs needs an install script.
(
  cd "$out"
  npm ci --omit=dev --workspace packages/log-reader --workspace packages/compactor \
    --ignore-scripts --no-audit --no-fund --prefer-offline
)

# Relative links: the bin shims find dist/ next to their own real path, as under npx.
ln -s ../packages/compactor/bin/compactor.js "$out/bin/compactor"
ln -s ../packages/log-reader/bin/log-reader.js "$out/bin/log-reader"
