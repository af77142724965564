#!/usr/bin/env bash
# Regenerates deepcopy, defaults, conversion, OpenAPI, clientset, listers and
# informers from the API types. Generated files are committed; run this after
# every change under apis/ (hack/verify-codegen.sh checks it was).
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "${ROOT}"
if [[ -z "${CODEGEN_PKG:-}" ]]; then
  # `go list -m` prints no directory for a module that is not in the module
  # cache yet (a fresh clone, an empty GOMODCACHE): download the version
  # go.mod pins first, then ask where it is.
  go mod download k8s.io/code-generator
  CODEGEN_PKG=$(go list -m -f '{{.Dir}}' k8s.io/code-generator)
fi
if [[ ! -f "${CODEGEN_PKG}/kube_codegen.sh" ]]; then
  echo "no kube_codegen.sh in k8s.io/code-generator (at '${CODEGEN_PKG}')" >&2
  exit 1
fi
THIS_PKG="kubegene.io/kubegene"

# shellcheck source=/dev/null
source "${CODEGEN_PKG}/kube_codegen.sh"

kube::codegen::gen_helpers \
    --boilerplate "${ROOT}/hack/boilerplate.go.txt" \
    "${ROOT}/apis"

kube::codegen::gen_openapi \
    --output-dir "${ROOT}/pkg/generated/openapi" \
    --output-pkg "${THIS_PKG}/pkg/generated/openapi" \
    --report-filename "${ROOT}/hack/api-rules-violations.list" \
    --update-report \
    --output-model-name-file "zz_generated.model_name.go" \
    --extra-pkgs k8s.io/api/core/v1 \
    --boilerplate "${ROOT}/hack/boilerplate.go.txt" \
    "${ROOT}/apis"

kube::codegen::gen_client \
    --with-watch \
    --output-dir "${ROOT}/pkg/generated" \
    --output-pkg "${THIS_PKG}/pkg/generated" \
    --boilerplate "${ROOT}/hack/boilerplate.go.txt" \
    "${ROOT}/apis"
