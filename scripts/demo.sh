#!/usr/bin/env bash
# The demo scenario (`make demo` runs it against a local moto server): seed a bucket with
# what Fluent Bit uploads for a few jobs, look at the plan, merge, read a job's log, then
# run the pass an hour later would run and see the tiny objects go.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${AWS_ENDPOINT_URL_S3:=${S3_TEST_ENDPOINT:?no S3 endpoint: run make demo}}"
export AWS_ENDPOINT_URL_S3
BUCKET=${DEMO_BUCKET:-demo-logs}
compactor() { node packages/compactor/dist/bin.js "$@"; }
log_reader() { node packages/log-reader/dist/bin.js "$@"; }
stats() { node packages/testkit/dist/bucket-stats.js --bucket "$BUCKET"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Seed: 90 minutes of Fluent Bit uploads for 4 jobs (S3 at $AWS_ENDPOINT_URL_S3)"
node packages/testkit/dist/seed.js --bucket "$BUCKET" --pods 4 --minutes 90
stats

step "compactor run --dry-run (reads everything, writes nothing)"
compactor run --bucket "$BUCKET" --dry-run 2>/dev/null

step "compactor run (JSON logs on stderr, the summary on stdout)"
compactor run --bucket "$BUCKET" 2> .tmp/demo-compactor.log
echo "(per-pod JSON log lines: .tmp/demo-compactor.log)"
stats

POD=$(node -e '
  const fs = require("fs");
  const line = fs.readFileSync(".tmp/demo-compactor.log", "utf8").split("\n").find((l) => l.includes("\"pod merged\""));
  console.log(JSON.parse(line).pod);')
step "log-reader logs $POD --timestamps (first lines of $(log_reader logs "$POD" --bucket "$BUCKET" | wc -l), then --tail 3)"
log_reader logs "$POD" --bucket "$BUCKET" --timestamps | cut -c1-160 | sed -n '1,5p'
echo '...'
log_reader logs "$POD" --bucket "$BUCKET" --timestamps --tail 3 | cut -c1-160
BEFORE=$(log_reader logs "$POD" --bucket "$BUCKET" --timestamps | sha256sum | cut -c1-16)

step "An hour later: the next pass deletes the merged raw files (here: --cleanup-interval 1s)"
sleep 2
compactor run --bucket "$BUCKET" --cleanup-interval 1s 2>/dev/null
stats
AFTER=$(log_reader logs "$POD" --bucket "$BUCKET" --timestamps | sha256sum | cut -c1-16)
step "The log of $POD reads the same with the raw files gone: sha256 $BEFORE before, $AFTER after"
[ "$BEFORE" = "$AFTER" ]
