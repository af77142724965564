#!/usr/bin/env bash
# A real, local Kubernetes v1.37.2 control plane for development and tests,
# with kwok playing the kubelet, plus the execution-apiserver registered
# through the aggregator.
#
#   hack/local-up.sh [up]                 start whatever is not running; returns when ready:
#                                         every component serves, and kubectl finds executions
#                                         in discovery and explains them (aggregated OpenAPI)
#   hack/local-up.sh down [--clean]       stop every component that has a pid file
#                                         (--clean also deletes _output/local: data, PKI, logs)
#   hack/local-up.sh status               each component, its pid and whether it is alive
#   hack/local-up.sh restart COMPONENT    stop + start one component with the flags it had
#   hack/local-up.sh stop|start COMPONENT one component (start re-uses its recorded flags)
#   hack/local-up.sh env                  print the exports for this stack
#
# Components (in start order): etcd kube-apiserver kube-controller-manager
# kube-scheduler kwok execution-apiserver
#
# Environment:
#   LOCAL_UP_SKIP_EXECUTION_APISERVER=1   bring up only the cluster (no build, start or
#                                         registration of the execution-apiserver)
#   LOCAL_UP_SKIP_TOOLS_BUILD=1           do not run hack/tools/build.sh (binaries must exist)
#   ETCD_CLIENT_PORT (23790) ETCD_PEER_PORT (23800) KUBE_APISERVER_PORT (26443)
#   KCM_PORT (30257) SCHEDULER_PORT (30259) KWOK_PORT (30247) EXEC_PORT (28443)
#   EXEC_ETCD_PORT (28379)                the execution-apiserver's embedded etcd: client URL
#                                         http://127.0.0.1:EXEC_ETCD_PORT (loopback, no TLS)
#   KWOK_NODE_NAME (kwok-node-0), KWOK_NODE_IP (127.0.0.1), KWOK_POD_CIDR (10.0.0.0/24),
#   SERVICE_CLUSTER_IP_RANGE (10.96.0.0/16): bookkeeping only, nothing connects to them
#   <COMPONENT>_EXTRA_ARGS                extra flags, e.g. EXECUTION_APISERVER_EXTRA_ARGS="--v=4"
#                                         (KUBE_APISERVER_EXTRA_ARGS, ETCD_EXTRA_ARGS, ...)
#   LOCAL_UP_TIMEOUT (120)                seconds to wait for each component and each
#                                         readiness step (e.g. the execution API in discovery)
#   LOCAL_UP_STOP_TIMEOUT (20)            seconds between TERM and KILL when stopping
#
# Files under _output/local/: logs/NAME.log, pids/NAME.pid, args/NAME.args (the
# exact command line), pki/, kubeconfig (admin), users/*.kubeconfig, env.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${ROOT}/_output/bin"
LOCAL_DIR="${ROOT}/_output/local"
LOG_DIR="${LOCAL_DIR}/logs"
PID_DIR="${LOCAL_DIR}/pids"
ARGS_DIR="${LOCAL_DIR}/args"
MANIFEST_DIR="${LOCAL_DIR}/manifests"

: "${ETCD_CLIENT_PORT:=23790}"
: "${ETCD_PEER_PORT:=23800}"
: "${KUBE_APISERVER_PORT:=26443}"
: "${KCM_PORT:=30257}"
: "${SCHEDULER_PORT:=30259}"
: "${KWOK_PORT:=30247}"
: "${EXEC_PORT:=28443}"
: "${EXEC_ETCD_PORT:=28379}"
: "${KWOK_NODE_NAME:=kwok-node-0}"
: "${KWOK_NODE_IP:=127.0.0.1}"
: "${KWOK_POD_CIDR:=10.0.0.0/24}"
: "${SERVICE_CLUSTER_IP_RANGE:=10.96.0.0/16}"
: "${LOCAL_UP_TIMEOUT:=120}"
: "${LOCAL_UP_STOP_TIMEOUT:=20}"
: "${LOCAL_UP_SKIP_EXECUTION_APISERVER:=0}"
: "${LOCAL_UP_SKIP_TOOLS_BUILD:=0}"

EXEC_NAMESPACE=kubegene-system
EXEC_SERVICE=execution-apiserver
APISERVICE=v1alpha1.execution.kubegene.io

export LOCAL_DIR KUBE_APISERVER_PORT
PKI_DIR="${LOCAL_DIR}/pki"
KUBE_APISERVER_URL="https://127.0.0.1:${KUBE_APISERVER_PORT}"
# shellcheck disable=SC2034 # read by lib/pki.sh
EXEC_SERVICE_NAME="${EXEC_SERVICE}"
# shellcheck disable=SC2034 # read by lib/pki.sh
EXEC_SERVICE_NAMESPACE="${EXEC_NAMESPACE}"
# shellcheck source-path=SCRIPTDIR source=lib/pki.sh
source "${ROOT}/hack/lib/pki.sh"

ADMIN_KUBECONFIG="${LOCAL_DIR}/kubeconfig"
EXEC_KUBECONFIG="${LOCAL_DIR}/users/execution-apiserver.kubeconfig"
KUBECTL="${BIN_DIR}/kubectl"

CLUSTER_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
ALL_COMPONENTS=("${CLUSTER_COMPONENTS[@]}" execution-apiserver)

log() { echo "[local-up] $*" >&2; }
die() { echo "[local-up] ERROR: $*" >&2; exit 1; }

kubectl_admin() { "${KUBECTL}" --kubeconfig "${ADMIN_KUBECONFIG}" "$@"; }

# ---------------------------------------------------------------- flags

# component_args NAME: sets ARGS to NAME's command line (binary first).
component_args() {
  local name="$1" extra_var
  case "${name}" in
    etcd)
      ARGS=("${BIN_DIR}/etcd"
        --name=local
        --data-dir="${LOCAL_DIR}/etcd"
        --listen-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}"
        --advertise-client-urls="http://127.0.0.1:${ETCD_CLIENT_PORT}"
        --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}"
        --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}"
        --initial-cluster="local=http://127.0.0.1:${ETCD_PEER_PORT}"
        --quota-backend-bytes=8589934592
        --log-level=warn)
      ;;
    kube-apiserver)
      # shellcheck disable=SC2054 # --authorization-mode=Node,RBAC is one word
      ARGS=("${BIN_DIR}/kube-apiserver"
        --etcd-servers="http://127.0.0.1:${ETCD_CLIENT_PORT}"
        --bind-address=127.0.0.1
        --advertise-address=127.0.0.1
        --secure-port="${KUBE_APISERVER_PORT}"
        --tls-cert-file="${PKI_DIR}/kube-apiserver.crt"
        --tls-private-key-file="${PKI_DIR}/kube-apiserver.key"
        --client-ca-file="${PKI_DIR}/ca.crt"
        --authorization-mode=Node,RBAC
        # Only 127.0.0.1: no endpoint for the kubernetes Service.
        --endpoint-reconciler-type=none
        --service-cluster-ip-range="${SERVICE_CLUSTER_IP_RANGE}"
        --service-account-issuer=https://kubernetes.default.svc.cluster.local
        --service-account-key-file="${PKI_DIR}/sa.pub"
        --service-account-signing-key-file="${PKI_DIR}/sa.key"
        # Aggregation (front proxy). No --enable-aggregator-routing: the
        # aggregator goes through the Service (ExternalName localhost).
        --requestheader-client-ca-file="${PKI_DIR}/front-proxy-ca.crt"
        --requestheader-allowed-names=front-proxy-client
        --requestheader-extra-headers-prefix=X-Remote-Extra-
        --requestheader-group-headers=X-Remote-Group
        --requestheader-username-headers=X-Remote-User
        --proxy-client-cert-file="${PKI_DIR}/front-proxy-client.crt"
        --proxy-client-key-file="${PKI_DIR}/front-proxy-client.key"
        # Graceful but quick stop: drain ordinary requests, answer new ones with
        # Retry-After, then close in 2 s (the default waits up to 60 s for watches).
        --shutdown-send-retry-after=true
        --profiling=false)
      ;;
    kube-controller-manager)
      ARGS=("${BIN_DIR}/kube-controller-manager"
        --kubeconfig="${ADMIN_KUBECONFIG}"
        --authentication-kubeconfig="${ADMIN_KUBECONFIG}"
        --authorization-kubeconfig="${ADMIN_KUBECONFIG}"
        --bind-address=127.0.0.1
        --secure-port="${KCM_PORT}"
        --cert-dir="${LOCAL_DIR}/kube-controller-manager"
        --leader-elect=false
        --use-service-account-credentials=false
        --controllers='*'
        --service-account-private-key-file="${PKI_DIR}/sa.key"
        --root-ca-file="${PKI_DIR}/ca.crt"
        --cluster-signing-cert-file="${PKI_DIR}/ca.crt"
        --cluster-signing-key-file="${PKI_DIR}/ca.key"
        # The Job controller sends ~6 requests per Job (the pod, three status
        # updates, the pod's finalizer, an event) on one client: at QPS 200
        # its rate limiter, not the machine, capped the cluster at ~33 Jobs/s.
        --kube-api-qps=2000
        --kube-api-burst=4000
        # kwok's heartbeat comes every 20-45 s; leave room on a loaded machine.
        --node-monitor-grace-period=120s
        # Quota usage of resources discovered late (the aggregated executions,
        # ~30 s after start) is recomputed within 15 s, not 5 min.
        --resource-quota-sync-period=15s
        --profiling=false)
      ;;
    kube-scheduler)
      ARGS=("${BIN_DIR}/kube-scheduler"
        --config="${LOCAL_DIR}/kube-scheduler-config.yaml"
        --authentication-kubeconfig="${ADMIN_KUBECONFIG}"
        --authorization-kubeconfig="${ADMIN_KUBECONFIG}"
        --bind-address=127.0.0.1
        --secure-port="${SCHEDULER_PORT}"
        --cert-dir="${LOCAL_DIR}/kube-scheduler")
      ;;
    kwok)
      ARGS=("${BIN_DIR}/kwok"
        --kubeconfig="${ADMIN_KUBECONFIG}"
        --manage-all-nodes=false
        --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake
        --node-ip="${KWOK_NODE_IP}"
        --cidr="${KWOK_POD_CIDR}"
        --node-port="${KWOK_PORT}"
        --server-address="127.0.0.1:${KWOK_PORT}")
      local stage
      for stage in "${ROOT}"/hack/kwok/stages/*.yaml; do
        ARGS+=(--config="${stage}")
      done
      ;;
    execution-apiserver)
      ARGS=("${BIN_DIR}/execution-apiserver"
        --secure-port="${EXEC_PORT}"
        --bind-address=127.0.0.1
        --tls-cert-file="${PKI_DIR}/execution-apiserver.crt"
        --tls-private-key-file="${PKI_DIR}/execution-apiserver.key"
        # Its own identity (ServiceAccount user via x509): runs under artifacts/deploy RBAC.
        --kubeconfig="${EXEC_KUBECONFIG}"
        --authentication-kubeconfig="${EXEC_KUBECONFIG}"
        --authorization-kubeconfig="${EXEC_KUBECONFIG}"
        --embedded-etcd-data-dir="${LOCAL_DIR}/execution-apiserver/etcd"
        # A fixed port (not the default's random one), so that tests and
        # etcdctl can read what the server stores.
        --embedded-etcd-client-url="http://127.0.0.1:${EXEC_ETCD_PORT}")
      ;;
    *) die "unknown component ${name} (one of: ${ALL_COMPONENTS[*]})" ;;
  esac
  extra_var="$(echo "${name}" | tr 'a-z-' 'A-Z_')_EXTRA_ARGS"
  if [[ -n "${!extra_var:-}" ]]; then
    local -a extra
    read -r -a extra <<< "${!extra_var}"
    ARGS+=("${extra[@]}")
  fi
}

# ---------------------------------------------------------------- processes

pid_file() { echo "${PID_DIR}/$1.pid"; }

# component_pid NAME: prints the pid when NAME's pid file names a live process
# that runs NAME's binary (guards against a recycled pid).
component_pid() {
  local name="$1" file pid exe
  file="$(pid_file "${name}")"
  [[ -s "${file}" ]] || return 1
  pid="$(cat "${file}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  exe="$(readlink "/proc/${pid}/exe" 2>/dev/null)" || return 1
  [[ "${exe}" == "${BIN_DIR}/${name}"* ]] || return 1
  echo "${pid}"
}

port_of() {
  case "$1" in
    etcd) echo "${ETCD_CLIENT_PORT}" ;;
    kube-apiserver) echo "${KUBE_APISERVER_PORT}" ;;
    kube-controller-manager) echo "${KCM_PORT}" ;;
    kube-scheduler) echo "${SCHEDULER_PORT}" ;;
    kwok) echo "${KWOK_PORT}" ;;
    execution-apiserver) echo "${EXEC_PORT}" ;;
  esac
}

port_in_use() { ss -Hltn "sport = :$1" | grep -q .; }

# embedded_etcd_port: the client port of the embedded etcd that the
# execution-apiserver command line in ARGS runs; fails when it runs none
# (--etcd-servers) or lets the kernel pick the port.
embedded_etcd_port() {
  local a port=""
  for a in "${ARGS[@]}"; do
    case "${a}" in
      --etcd-servers=*) return 1 ;;
      --embedded-etcd-client-url=*) port="${a##*:}" ;;
    esac
  done
  [[ "${port}" =~ ^[0-9]+$ && "${port}" != 0 ]] || return 1
  echo "${port}"
}

# close_inherited_fds: closes every descriptor above 2 of this (sub)shell, so
# that a component started from it keeps nothing of its caller's for its whole
# life: not a lock (`flock FILE hack/local-up.sh up` would stay locked while
# the stack runs), not a pipe whose reader waits for end of file (`$(...)`, a
# CI step, make's jobserver). 255 is bash's own script descriptor (close-on-exec).
close_inherited_fds() {
  local fd
  for fd in /proc/"${BASHPID}"/fd/*; do
    fd="${fd##*/}"
    if [[ "${fd}" =~ ^[0-9]+$ ]] && ((fd > 2 && fd != 255)); then
      eval "exec ${fd}>&-"
    fi
  done
}

# start_component NAME [--reuse-args]: starts NAME in its own session, logs
# appended to logs/NAME.log. With --reuse-args the recorded command line is used.
start_component() {
  local name="$1" reuse="${2:-}" pid
  if pid="$(component_pid "${name}")"; then
    log "${name} already running (pid ${pid})"
    return 0
  fi
  rm -f "$(pid_file "${name}")"
  local args_file="${ARGS_DIR}/${name}.args"
  if [[ "${reuse}" == --reuse-args && -s "${args_file}" ]]; then
    mapfile -d '' -t ARGS < "${args_file}"
  else
    component_args "${name}"
    printf '%s\0' "${ARGS[@]}" > "${args_file}"
  fi
  local port
  port="$(port_of "${name}")"
  if port_in_use "${port}"; then
    die "port ${port} for ${name} is already in use by another process (set the port variable, see --help)"
  fi
  if [[ "${name}" == execution-apiserver ]] && port="$(embedded_etcd_port)" && port_in_use "${port}"; then
    die "port ${port} for ${name}'s embedded etcd is already in use by another process (set EXEC_ETCD_PORT, see --help)"
  fi
  [[ -x "${ARGS[0]}" ]] || die "${ARGS[0]} is missing (hack/tools/build.sh)"
  mkdir -p "${LOG_DIR}" "${PID_DIR}"
  echo "==== $(date -u +%FT%TZ) starting: ${ARGS[*]}" >> "${LOG_DIR}/${name}.log"
  # setsid: own session, so no signal meant for the caller's terminal or
  # process group reaches it. In a non-interactive shell the background child is
  # not a group leader, so setsid execs in place and $! is the component's pid.
  # The component inherits no descriptor but 0-2 (see close_inherited_fds).
  (
    close_inherited_fds
    exec setsid "${ARGS[@]}" >> "${LOG_DIR}/${name}.log" 2>&1 < /dev/null
  ) &
  pid=$!
  echo "${pid}" > "$(pid_file "${name}")"
  # Until the subshell and setsid have exec'd the component, /proc/PID/exe
  # is bash or setsid, and component_pid would take the starting component
  # for a dead one: on a loaded machine that takes a while.
  local i
  for ((i = 0; i < 200; i++)); do
    component_pid "${name}" > /dev/null && break
    kill -0 "${pid}" 2>/dev/null || break
    sleep 0.05
  done
  log "started ${name} (pid ${pid}), log ${LOG_DIR}/${name}.log"
}

# stop_component NAME: TERM, wait up to LOCAL_UP_STOP_TIMEOUT s, then KILL;
# removes the pid file.
stop_component() {
  local name="$1" file pid i
  file="$(pid_file "${name}")"
  [[ -e "${file}" ]] || return 0
  if pid="$(component_pid "${name}")"; then
    log "stopping ${name} (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < LOCAL_UP_STOP_TIMEOUT * 10; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "${name} (pid ${pid}) did not exit on TERM: KILL"
      kill -KILL "${pid}" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
      done
    fi
  else
    log "${name}: stale pid file (process gone)"
  fi
  rm -f "${file}"
}

# wait_until NAME DESCRIPTION CMD...: retries CMD until it succeeds, failing
# early (with the end of the log) when NAME's process has died. On failure
# it also prints what CMD said the last time.
wait_until() {
  local name="$1" what="$2"; shift 2
  local deadline=$((SECONDS + LOCAL_UP_TIMEOUT)) out
  until out="$("$@" 2>&1)"; do
    if ! component_pid "${name}" > /dev/null; then
      tail -n 30 "${LOG_DIR}/${name}.log" >&2 || true
      die "${name} exited while waiting for ${what} (log: ${LOG_DIR}/${name}.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "${LOG_DIR}/${name}.log" >&2 || true
      echo "[local-up] the last check said: ${out:-(nothing)}" >&2
      die "timed out after ${LOCAL_UP_TIMEOUT}s waiting for ${what} (log: ${LOG_DIR}/${name}.log)"
    fi
    sleep 0.5
  done
}

https_ok() { curl -fsS --max-time 5 --cacert "$1" "$2"; }
https_ok_insecure() { curl -fsSk --max-time 5 "$1"; }

node_ready() {
  [[ "$(kubectl_admin get node "${KWOK_NODE_NAME}" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

apiservice_available() {
  [[ "$(kubectl_admin get apiservice "${APISERVICE}" \
    -o jsonpath='{.status.conditions[?(@.type=="Available")].status}')" == True ]]
}

# execution_api_usable: what a user does first succeeds: discovery lists
# executions and `kubectl explain` finds the aggregated OpenAPI of
# spec.tasks.dependents. Both lag behind the APIService's Available
# condition by a few seconds. Each check uses a new, empty discovery cache
# (a client that looked too early must not answer from what it cached).
execution_api_usable() {
  local cache out rc=0
  cache="$(mktemp -d)"
  if ! out="$(kubectl_admin --cache-dir="${cache}" api-resources --api-group=execution.kubegene.io -o name 2>&1)"; then
    echo "${out}"
    rc=1
  elif ! grep -qx 'executions\.execution\.kubegene\.io' <<< "${out}"; then
    echo "kubectl api-resources --api-group=execution.kubegene.io does not list executions: ${out:-(no resources)}"
    rc=1
  elif ! kubectl_admin --cache-dir="${cache}" explain executions.spec.tasks.dependents > /dev/null; then
    rc=1
  fi
  rm -rf "${cache}"
  return "${rc}"
}

# wait_ready NAME: blocks until NAME serves.
wait_ready() {
  case "$1" in
    etcd)
      wait_until etcd "etcd health" curl -fsS --max-time 5 "http://127.0.0.1:${ETCD_CLIENT_PORT}/health" ;;
    kube-apiserver)
      wait_until kube-apiserver "kube-apiserver /readyz" \
        https_ok "${PKI_DIR}/ca.crt" "https://127.0.0.1:${KUBE_APISERVER_PORT}/readyz" ;;
    kube-controller-manager)
      wait_until kube-controller-manager "kube-controller-manager /healthz" \
        https_ok_insecure "https://127.0.0.1:${KCM_PORT}/healthz" ;;
    kube-scheduler)
      wait_until kube-scheduler "kube-scheduler /readyz" \
        https_ok_insecure "https://127.0.0.1:${SCHEDULER_PORT}/readyz" ;;
    kwok)
      wait_until kwok "node ${KWOK_NODE_NAME} Ready" node_ready ;;
    execution-apiserver)
      wait_until execution-apiserver "execution-apiserver /readyz" \
        https_ok "${PKI_DIR}/ca.crt" "https://127.0.0.1:${EXEC_PORT}/readyz"
      wait_until execution-apiserver "APIService ${APISERVICE} Available" apiservice_available
      wait_until execution-apiserver "executions in discovery and in kubectl explain (OpenAPI)" \
        execution_api_usable ;;
  esac
  log "${1} ready"
}

# ---------------------------------------------------------------- setup steps

ensure_tools() {
  if [[ "${LOCAL_UP_SKIP_TOOLS_BUILD}" != 1 ]]; then
    "${ROOT}/hack/tools/build.sh"
  fi
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [[ -x "${BIN_DIR}/${b}" ]] || die "${BIN_DIR}/${b} missing: run hack/tools/build.sh"
  done
}

write_scheduler_config() {
  # qps/burst live in the configuration file (the flags are deprecated);
  # as high as kube-controller-manager's, so that no client-side rate
  # limiter bounds the cluster before the machine does.
  cat > "${LOCAL_DIR}/kube-scheduler-config.yaml" <<EOF
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: ${ADMIN_KUBECONFIG}
  qps: 2000
  burst: 4000
leaderElection:
  leaderElect: false
EOF
}

write_env_file() {
  cat > "${LOCAL_DIR}/env" <<EOF
export KUBECONFIG=${ADMIN_KUBECONFIG}
export KUBEGENE_LOCAL_DIR=${LOCAL_DIR}
export KUBEGENE_BIN_DIR=${BIN_DIR}
export KUBE_APISERVER_URL=${KUBE_APISERVER_URL}
export ETCD_CLIENT_PORT=${ETCD_CLIENT_PORT}
export ETCD_PEER_PORT=${ETCD_PEER_PORT}
export KUBE_APISERVER_PORT=${KUBE_APISERVER_PORT}
export KCM_PORT=${KCM_PORT}
export SCHEDULER_PORT=${SCHEDULER_PORT}
export KWOK_PORT=${KWOK_PORT}
export EXEC_PORT=${EXEC_PORT}
export EXEC_ETCD_PORT=${EXEC_ETCD_PORT}
export KWOK_NODE_NAME=${KWOK_NODE_NAME}
EOF
}

create_kwok_node() {
  cat > "${MANIFEST_DIR}/kwok-node.yaml" <<EOF
apiVersion: v1
kind: Node
metadata:
  name: ${KWOK_NODE_NAME}
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: ${KWOK_NODE_NAME}
    kubernetes.io/os: linux
status:
  allocatable:
    cpu: "1000"
    memory: 4Ti
    pods: "10000"
    ephemeral-storage: 10Ti
  capacity:
    cpu: "1000"
    memory: 4Ti
    pods: "10000"
    ephemeral-storage: 10Ti
EOF
  if ! kubectl_admin get node "${KWOK_NODE_NAME}" > /dev/null 2>&1; then
    kubectl_admin create -f "${MANIFEST_DIR}/kwok-node.yaml" > /dev/null
    log "created node ${KWOK_NODE_NAME}"
  fi
}

# Namespace, ServiceAccount and RBAC of artifacts/deploy (not its Deployment,
# Service or APIService: those are replaced by the local ones below).
apply_deploy_rbac() {
  kubectl_admin apply \
    -f "${ROOT}/artifacts/deploy/00-namespace.yaml" \
    -f "${ROOT}/artifacts/deploy/01-serviceaccount.yaml" \
    -f "${ROOT}/artifacts/deploy/02-rbac-delegation.yaml" \
    -f "${ROOT}/artifacts/deploy/03-rbac-server.yaml" \
    -f "${ROOT}/artifacts/deploy/04-rbac-users.yaml" > /dev/null
  log "applied artifacts/deploy Namespace, ServiceAccount and RBAC"
}

# The aggregator resolves the ExternalName Service to https://localhost:EXEC_PORT
# and verifies the certificate as execution-apiserver.kubegene-system.svc
# against caBundle (the local cluster CA).
register_execution_apiserver() {
  cat > "${MANIFEST_DIR}/execution-apiserver-registration.yaml" <<EOF
apiVersion: v1
kind: Service
metadata:
  name: ${EXEC_SERVICE}
  namespace: ${EXEC_NAMESPACE}
  labels:
    app.kubernetes.io/name: execution-apiserver
    app.kubernetes.io/part-of: kubegene
spec:
  type: ExternalName
  externalName: localhost
  ports:
  - name: https
    port: ${EXEC_PORT}
    targetPort: ${EXEC_PORT}
    protocol: TCP
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: ${APISERVICE}
  labels:
    app.kubernetes.io/name: execution-apiserver
    app.kubernetes.io/part-of: kubegene
spec:
  group: execution.kubegene.io
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service:
    name: ${EXEC_SERVICE}
    namespace: ${EXEC_NAMESPACE}
    port: ${EXEC_PORT}
  caBundle: $(base64 -w0 < "${PKI_DIR}/ca.crt")
EOF
  kubectl_admin apply -f "${MANIFEST_DIR}/execution-apiserver-registration.yaml" > /dev/null
  log "registered APIService ${APISERVICE} -> Service ${EXEC_NAMESPACE}/${EXEC_SERVICE} (ExternalName localhost:${EXEC_PORT})"
}

build_execution_apiserver() {
  # go build relinks only when an input changed, so this is cheap when up to date.
  log "building execution-apiserver (go build ./cmd/execution-apiserver)"
  if ! (cd "${ROOT}" && go build -o "${BIN_DIR}/execution-apiserver" ./cmd/execution-apiserver); then
    die "execution-apiserver does not build; the cluster is up (LOCAL_UP_SKIP_EXECUTION_APISERVER=1 skips this step)"
  fi
}

# ---------------------------------------------------------------- commands

start_and_wait() {
  local name="$1" reuse="${2:-}"
  if [[ "${name}" == execution-apiserver ]]; then
    [[ "${reuse}" == --reuse-args ]] || build_execution_apiserver
  fi
  start_component "${name}" "${reuse}"
  wait_ready "${name}"
}

cmd_up() {
  local start=${SECONDS}
  mkdir -p "${LOG_DIR}" "${PID_DIR}" "${ARGS_DIR}" "${MANIFEST_DIR}" \
    "${LOCAL_DIR}/kube-controller-manager" "${LOCAL_DIR}/kube-scheduler" \
    "${LOCAL_DIR}/execution-apiserver"
  ensure_tools
  ensure_pki
  write_scheduler_config
  write_env_file

  start_and_wait etcd
  start_and_wait kube-apiserver
  start_and_wait kube-controller-manager
  start_and_wait kube-scheduler
  create_kwok_node
  start_and_wait kwok
  # Pods need the namespace's default ServiceAccount, made by kube-controller-manager.
  wait_until kube-controller-manager "ServiceAccount default/default" \
    kubectl_admin get serviceaccount default -n default
  apply_deploy_rbac

  if [[ "${LOCAL_UP_SKIP_EXECUTION_APISERVER}" == 1 ]]; then
    log "LOCAL_UP_SKIP_EXECUTION_APISERVER=1: not starting the execution-apiserver"
  else
    wait_until kube-apiserver "kube-system/extension-apiserver-authentication" \
      kubectl_admin get configmap extension-apiserver-authentication -n kube-system
    if ! component_pid execution-apiserver > /dev/null; then
      build_execution_apiserver
      start_component execution-apiserver
    else
      log "execution-apiserver already running (pid $(component_pid execution-apiserver))"
    fi
    register_execution_apiserver
    wait_ready execution-apiserver
  fi
  log "up in $((SECONDS - start))s"
  # _output/bin: the kubectl matching the cluster, and the kubectl-execution plugin.
  echo "export KUBECONFIG=${ADMIN_KUBECONFIG} PATH=${BIN_DIR}:\${PATH}"
}

cmd_down() {
  local clean="${1:-}" i
  for ((i = ${#ALL_COMPONENTS[@]} - 1; i >= 0; i--)); do
    stop_component "${ALL_COMPONENTS[i]}"
  done
  if [[ "${clean}" == --clean ]]; then
    rm -rf "${LOCAL_DIR}"
    log "removed ${LOCAL_DIR}"
  fi
}

cmd_status() {
  local name pid rc=0 port etcd_port
  for name in "${ALL_COMPONENTS[@]}"; do
    port="$(port_of "${name}")"
    # The embedded etcd's port as the recorded command line has it.
    if [[ "${name}" == execution-apiserver && -s "${ARGS_DIR}/${name}.args" ]]; then
      mapfile -d '' -t ARGS < "${ARGS_DIR}/${name}.args"
      if etcd_port="$(embedded_etcd_port)"; then
        port+=", embedded etcd ${etcd_port}"
      fi
    fi
    if pid="$(component_pid "${name}")"; then
      printf '%-25s running  pid %-8s port %s\n' "${name}" "${pid}" "${port}"
    elif [[ -e "$(pid_file "${name}")" ]]; then
      printf '%-25s DEAD     (stale pid file %s)\n' "${name}" "$(pid_file "${name}")"
      rc=3
    else
      printf '%-25s stopped\n' "${name}"
      rc=3
    fi
  done
  # Like an init script: 0 only when every component runs.
  return "${rc}"
}

check_component() {
  local c
  for c in "${ALL_COMPONENTS[@]}"; do
    [[ "$1" == "${c}" ]] && return 0
  done
  die "unknown component '$1' (one of: ${ALL_COMPONENTS[*]})"
}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

main() {
  local cmd="${1:-up}"
  shift || true
  case "${cmd}" in
    up) cmd_up ;;
    down) cmd_down "${1:-}" ;;
    status) cmd_status ;;
    env) cat "${LOCAL_DIR}/env" ;;
    restart)
      [[ $# -eq 1 ]] || die "usage: $0 restart COMPONENT"
      check_component "$1"
      stop_component "$1"
      start_and_wait "$1" --reuse-args ;;
    stop)
      [[ $# -eq 1 ]] || die "usage: $0 stop COMPONENT"
      check_component "$1"
      stop_component "$1" ;;
    start)
      [[ $# -eq 1 ]] || die "usage: $0 start COMPONENT"
      check_component "$1"
      start_and_wait "$1" --reuse-args ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
