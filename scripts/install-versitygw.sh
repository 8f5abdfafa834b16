#!/usr/bin/env bash
# Install versitygw (the Versity S3 Gateway), pinned, into .tools/bin/versitygw: the second
# S3 implementation of the tests, and the server of the benchmark.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/install-go-tool.sh" versitygw github.com/versity/versitygw \
  github.com/versity/versitygw/cmd/versitygw "${VERSITYGW_VERSION:-v1.8.0}"
