#!/usr/bin/env bash
# Builds the real Kubernetes components used by the local test stack into
# _output/bin/ of the checkout:
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (this module)
#   kwok                                                                    (go install, own module)
#
# Idempotent: a binary is rebuilt only when it is missing or when the stamp
# (hash of hack/tools/go.mod, go.sum and this script) changed since it was built.
# Builds run one after another (the machine has 2 cores).
#
# Usage: hack/tools/build.sh [--force]
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${TOOLS_DIR}/../.." && pwd)"
OUT="${ROOT}/_output/bin"

KUBE_VERSION="v1.37.2"
KWOK_VERSION="v0.8.0"
KUBE_BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl)

declare -A PKG=(
  [etcd]="go.etcd.io/etcd/server/v3"
  [kube-apiserver]="k8s.io/kubernetes/cmd/kube-apiserver"
  [kube-controller-manager]="k8s.io/kubernetes/cmd/kube-controller-manager"
  [kube-scheduler]="k8s.io/kubernetes/cmd/kube-scheduler"
  [kubectl]="k8s.io/kubernetes/cmd/kubectl"
)

log() { echo "[build.sh] $*" >&2; }

# ldflags the way kubernetes' hack/lib/version.sh stamps its release binaries,
# so that `kubectl version` and /version report v1.37.2 instead of v0.0.0-master.
kube_ldflags() {
  local ver="${KUBE_VERSION#v}" major minor
  major="${ver%%.*}"
  minor="${ver#*.}"; minor="${minor%%.*}"
  local -a kv=(
    "gitVersion=${KUBE_VERSION}"
    "gitMajor=${major}"
    "gitMinor=${minor}"
    "gitTreeState=clean"
    "buildDate=1970-01-01T00:00:00Z"
  )
  local flags="-s -w" pair
  for pair in "${kv[@]}"; do
    flags+=" -X k8s.io/component-base/version.${pair} -X k8s.io/client-go/pkg/version.${pair}"
  done
  echo "${flags}"
}

stamp_of() {
  cat "${TOOLS_DIR}/go.mod" "${TOOLS_DIR}/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1
}

# needs_build NAME STAMP -> 0 when _output/bin/NAME is missing or stale
needs_build() {
  local name="$1" stamp="$2"
  [[ "${FORCE}" == 1 ]] && return 0
  [[ -x "${OUT}/${name}" ]] || return 0
  [[ "$(cat "${OUT}/.stamps/${name}" 2>/dev/null || true)" == "${stamp}" ]] || return 0
  return 1
}

build_kube() {
  local stamp="$1" name
  local -a todo=()
  for name in "${KUBE_BINARIES[@]}"; do
    if needs_build "${name}" "${stamp}"; then
      todo+=("${name}")
    fi
  done
  if [[ ${#todo[@]} -eq 0 ]]; then
    log "kubernetes ${KUBE_VERSION} + etcd binaries are up to date"
    return
  fi
  # Built one at a time: a single `go build` of all of them peaks much higher in
  # memory and gains little on 2 cores; the build cache shares the common packages.
  for name in "${todo[@]}"; do
    log "building ${name} (${PKG[$name]})"
    local start=${SECONDS}
    (cd "${TOOLS_DIR}" && GOWORK=off go build -trimpath -ldflags "$(kube_ldflags)" \
        -o "${OUT}/${name}.tmp" "${PKG[$name]}")
    mv -f "${OUT}/${name}.tmp" "${OUT}/${name}"
    echo "${stamp}" > "${OUT}/.stamps/${name}"
    log "built ${name} in $((SECONDS - start))s"
  done
}

build_kwok() {
  local stamp
  stamp="$(echo "${KWOK_VERSION} $(sha256sum < "${BASH_SOURCE[0]}")" | sha256sum | cut -d' ' -f1)"
  if ! needs_build kwok "${stamp}"; then
    log "kwok ${KWOK_VERSION} is up to date"
    return
  fi
  log "building kwok ${KWOK_VERSION}"
  local start=${SECONDS} gobin
  gobin="$(mktemp -d "${OUT}/.kwok.XXXXXX")"
  (cd "${TOOLS_DIR}" && GOWORK=off GOBIN="${gobin}" go install -trimpath \
      "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}")
  mv -f "${gobin}/kwok" "${OUT}/kwok"
  rmdir "${gobin}"
  echo "${stamp}" > "${OUT}/.stamps/kwok"
  log "built kwok in $((SECONDS - start))s"
}

main() {
  FORCE=0
  [[ "${1:-}" == "--force" ]] && FORCE=1
  mkdir -p "${OUT}/.stamps"
  # One build at a time, even if two scripts ask for it concurrently.
  exec 9>"${OUT}/.build.lock"
  flock 9
  build_kube "$(stamp_of)"
  build_kwok
}

main "$@"
