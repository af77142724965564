#!/usr/bin/env bash
# Throw-away PKI for the local test stack (hack/local-up.sh) and for tests.
#
# Source it (`source hack/lib/pki.sh`) and call the functions, or run it:
#   hack/lib/pki.sh mint_user_cert NAME [GROUP...]
#       -> writes a kubeconfig for user NAME (groups = GROUPs) signed by the
#          cluster CA and prints its path: _output/local/users/NAME.kubeconfig
#   hack/lib/pki.sh ensure_pki
#       -> creates every CA/cert/key local-up.sh needs (idempotent)
#
# Layout (PKI_DIR, default _output/local/pki):
#   ca.{crt,key}                      cluster CA: client certs, kube-apiserver and
#                                     execution-apiserver serving certs
#   front-proxy-ca.{crt,key}          request-header CA (aggregation)
#   front-proxy-client.{crt,key}      kube-apiserver --proxy-client-* (CN front-proxy-client)
#   sa.{key,pub}                      service-account token signing key pair
#   kube-apiserver.{crt,key}          serving: 127.0.0.1, localhost, kubernetes.default.svc...
#   execution-apiserver.{crt,key}     serving: execution-apiserver.kubegene-system.svc, localhost, 127.0.0.1
#   users/NAME.{crt,key}              client certs (CN=NAME, O=GROUP...)
# Kubeconfigs (KUBECONFIG_DIR, default _output/local):
#   kubeconfig                        admin (O=system:masters)
#   users/NAME.kubeconfig             any minted user, e.g. execution-apiserver's own identity
#
# Keys are ECDSA P-256 (RSA 2048 for the service-account key); certificates are
# valid for PKI_DAYS days (default 3650, 10 years). For the local stack nothing
# here is secret beyond this machine: it is test PKI. hack/ha-etcd-certs.sh
# uses the same functions (PKI_DIR set to its OUTDIR) for the HA etcd's TLS.

# Do not change the caller's shell options when sourced.
_PKI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${LOCAL_DIR:=${_PKI_ROOT}/_output/local}"
: "${PKI_DIR:=${LOCAL_DIR}/pki}"
: "${KUBE_APISERVER_PORT:=26443}"
: "${KUBE_APISERVER_URL:=https://127.0.0.1:${KUBE_APISERVER_PORT}}"
: "${EXEC_SERVICE_NAME:=execution-apiserver}"
: "${EXEC_SERVICE_NAMESPACE:=kubegene-system}"
: "${PKI_DAYS:=3650}"

_pki_log() { echo "[pki] $*" >&2; }

# _pki_key FILE: a new ECDSA P-256 private key unless FILE exists.
_pki_key() {
  [[ -s "$1" ]] && return 0
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# pki_ensure_ca NAME CN: self-signed CA NAME.crt/NAME.key in PKI_DIR.
pki_ensure_ca() {
  local name="$1" cn="$2"
  mkdir -p "${PKI_DIR}"
  [[ -s "${PKI_DIR}/${name}.crt" && -s "${PKI_DIR}/${name}.key" ]] && return 0
  _pki_log "CA ${name} (CN=${cn})"
  _pki_key "${PKI_DIR}/${name}.key"
  openssl req -x509 -new -sha256 -days "${PKI_DAYS}" \
    -key "${PKI_DIR}/${name}.key" -out "${PKI_DIR}/${name}.crt" \
    -subj "/CN=${cn}" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

# pki_sign OUT CA KIND SUBJECT [SAN]
#   OUT     path prefix (OUT.crt, OUT.key)
#   CA      CA name in PKI_DIR (ca, front-proxy-ca)
#   KIND    server | client | peer (server and client, e.g. etcd members)
#   SUBJECT openssl subject, e.g. "/O=g1/O=g2/CN=alice"
#   SAN     for servers: "DNS:localhost,IP:127.0.0.1"
# Skips the work when OUT.crt exists with the same subject (and SANs).
pki_sign() {
  local out="$1" ca="$2" kind="$3" subject="$4" san="${5:-}"
  local want="${subject}|${san}"
  if [[ -s "${out}.crt" && -s "${out}.key" && "$(cat "${out}.req-info" 2>/dev/null)" == "${want}" ]]; then
    return 0
  fi
  _pki_log "cert $(basename "${out}") ${subject} ${san}"
  mkdir -p "$(dirname "${out}")"
  local ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "authorityKeyIdentifier=keyid"
    case "${kind}" in
      server)
        echo "extendedKeyUsage=serverAuth"
        echo "subjectAltName=${san}" ;;
      peer)
        echo "extendedKeyUsage=serverAuth,clientAuth"
        echo "subjectAltName=${san}" ;;
      *)
        echo "extendedKeyUsage=clientAuth" ;;
    esac
  } > "${ext}"
  rm -f "${out}.key"
  _pki_key "${out}.key"
  openssl req -new -sha256 -key "${out}.key" -subj "${subject}" 2>/dev/null |
    openssl x509 -req -sha256 -days "${PKI_DAYS}" \
      -CA "${PKI_DIR}/${ca}.crt" -CAkey "${PKI_DIR}/${ca}.key" -set_serial "0x$(openssl rand -hex 16)" \
      -extfile "${ext}" -out "${out}.crt" 2>/dev/null
  rm -f "${ext}"
  echo "${want}" > "${out}.req-info"
}

# pki_write_kubeconfig FILE USER CERT KEY: self-contained kubeconfig (data inlined).
pki_write_kubeconfig() {
  local file="$1" user="$2" cert="$3" key="$4"
  mkdir -p "$(dirname "${file}")"
  local tmp="${file}.tmp"
  cat > "${tmp}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${KUBE_APISERVER_URL}
    certificate-authority-data: $(base64 -w0 < "${PKI_DIR}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 < "${cert}")
    client-key-data: $(base64 -w0 < "${key}")
contexts:
- name: ${user}@local
  context:
    cluster: local
    user: ${user}
current-context: ${user}@local
EOF
  chmod 600 "${tmp}"
  mv -f "${tmp}" "${file}"
}

# _pki_subject CN [O...] -> "/O=a/O=b/CN=cn" (slashes and commas in names are not supported)
_pki_subject() {
  local cn="$1"; shift
  local s="" g
  for g in "$@"; do s+="/O=${g}"; done
  echo "${s}/CN=${cn}"
}

# mint_user_cert NAME [GROUP...]: client cert CN=NAME, O=GROUP... signed by the
# cluster CA, and a kubeconfig for it. Prints the kubeconfig path.
# NAME may be any username (e.g. system:serviceaccount:ns:sa); the files are
# named after it with ':' replaced by '_', or KUBECONFIG_NAME when set.
# Safe to call concurrently for different names.
mint_user_cert() {
  local name="$1"; shift
  if [[ ! -s "${PKI_DIR}/ca.key" ]]; then
    echo "mint_user_cert: no cluster CA in ${PKI_DIR} (run hack/local-up.sh up first)" >&2
    return 1
  fi
  local file="${KUBECONFIG_NAME:-${name//:/_}}"
  local base="${PKI_DIR}/users/${file}"
  pki_sign "${base}" ca client "$(_pki_subject "${name}" "$@")"
  pki_write_kubeconfig "${LOCAL_DIR}/users/${file}.kubeconfig" "${name}" "${base}.crt" "${base}.key"
  echo "${LOCAL_DIR}/users/${file}.kubeconfig"
}

# ensure_pki: everything hack/local-up.sh needs. Idempotent.
ensure_pki() {
  mkdir -p "${PKI_DIR}"
  pki_ensure_ca ca "kubegene-local-ca"
  pki_ensure_ca front-proxy-ca "kubegene-local-front-proxy-ca"

  if [[ ! -s "${PKI_DIR}/sa.key" ]]; then
    _pki_log "service-account key pair"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${PKI_DIR}/sa.key" 2>/dev/null
    chmod 600 "${PKI_DIR}/sa.key"
    openssl pkey -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub" 2>/dev/null
  fi

  pki_sign "${PKI_DIR}/kube-apiserver" ca server "/CN=kube-apiserver" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1"
  # The aggregator verifies the name SERVICE.NAMESPACE.svc (kube-aggregator
  # remote.BuildTransportConfig), not the ExternalName it dials.
  local svc="${EXEC_SERVICE_NAME}.${EXEC_SERVICE_NAMESPACE}"
  pki_sign "${PKI_DIR}/execution-apiserver" ca server "/CN=${svc}.svc" \
    "DNS:${svc}.svc,DNS:${svc}.svc.cluster.local,DNS:localhost,IP:127.0.0.1"
  pki_sign "${PKI_DIR}/front-proxy-client" front-proxy-ca client "/CN=front-proxy-client"

  pki_sign "${PKI_DIR}/admin" ca client "$(_pki_subject kubegene-admin system:masters)"
  pki_write_kubeconfig "${LOCAL_DIR}/kubeconfig" kubegene-admin "${PKI_DIR}/admin.crt" "${PKI_DIR}/admin.key"

  # The execution-apiserver's own identity: x509 authn maps it to its
  # ServiceAccount user, so it runs under the RBAC of artifacts/deploy.
  KUBECONFIG_NAME=execution-apiserver mint_user_cert \
    "system:serviceaccount:${EXEC_SERVICE_NAMESPACE}:${EXEC_SERVICE_NAME}" \
    system:serviceaccounts "system:serviceaccounts:${EXEC_SERVICE_NAMESPACE}" >/dev/null
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  set -euo pipefail
  cmd="${1:-}"
  shift || true
  case "${cmd}" in
    mint_user_cert|mint-user-cert) mint_user_cert "$@" ;;
    ensure_pki|ensure-pki) ensure_pki ;;
    *) echo "usage: $0 mint_user_cert NAME [GROUP...] | ensure_pki" >&2; exit 2 ;;
  esac
fi
