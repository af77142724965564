#!/usr/bin/env bash
# Fails when the committed generated code differs from what the generators
# produce from the current API types.
set -o errexit
set -o nounset
set -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT

tar -C "${ROOT}" --exclude=./_output --exclude=./.git -cf - . | tar -C "${TMP}" -xf -
(cd "${TMP}" && hack/update-codegen.sh >/dev/null)
for d in apis pkg/generated hack/api-rules-violations.list; do
  if ! diff -Naupr "${ROOT}/${d}" "${TMP}/${d}"; then
    echo "generated code in ${d} is out of date: run hack/update-codegen.sh" >&2
    exit 1
  fi
done
echo "generated code is up to date"
