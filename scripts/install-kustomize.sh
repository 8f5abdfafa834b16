#!/usr/bin/env bash
# Install kustomize, pinned, into .tools/bin/kustomize: test/k8s-manifests.test.ts builds the
# overlays in k8s/ with it. (kubectl has kustomize built in, but kubectl is not on every
# machine and its kustomize version follows kubectl's.)
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/install-go-tool.sh" kustomize sigs.k8s.io/kustomize/kustomize/v5 \
  sigs.k8s.io/kustomize/kustomize/v5 "${KUSTOMIZE_VERSION:-v5.5.0}"
