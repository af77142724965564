#!/usr/bin/env bash
# Certificates for the TLS of the HA variant's etcd (artifacts/deploy/ha):
#
#   hack/ha-etcd-certs.sh OUTDIR
#
# writes into OUTDIR (created with mode 700; keys 600):
#   ca.{crt,key}       the etcd CA (keep ca.key out of the cluster)
#   server.{crt,key}   etcd members, client port 2379: CN=execution-apiserver-etcd,
#                      SANs *.execution-apiserver-etcd.kubegene-system.svc(.cluster.local),
#                      execution-apiserver-etcd.kubegene-system.svc(.cluster.local),
#                      localhost, 127.0.0.1; serverAuth and clientAuth (etcd's own
#                      gRPC gateway dials the member with it, as kubeadm's etcd/server)
#   peer.{crt,key}     etcd members to each other, port 2380: CN=execution-apiserver-etcd-peer
#                      (the manifest's --peer-cert-allowed-cn), the same SANs,
#                      serverAuth and clientAuth
#   client.{crt,key}   the execution-apiserver replicas: CN=execution-apiserver, clientAuth
# and prints on stdout the kubectl commands that create the three Secrets the
# manifests mount (each with tls.crt, tls.key and the CA's ca.crt):
#   execution-apiserver-etcd-server, execution-apiserver-etcd-peer  (etcd.yaml)
#   execution-apiserver-etcd-client                                  (deployment.yaml)
# Run them, or pipe them to sh: `hack/ha-etcd-certs.sh DIR | sh`.
#
# Environment: NAMESPACE (kubegene-system), ETCD_SERVICE (execution-apiserver-etcd),
# CLUSTER_DOMAIN (cluster.local), KUBECTL (kubectl), PKI_DAYS (3650: validity of
# the CA and of the certificates). Keys are ECDSA P-256 (hack/lib/pki.sh).
# Running it again on the same OUTDIR keeps what is there; use a new OUTDIR
# for new keys.
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
: "${NAMESPACE:=kubegene-system}"
: "${ETCD_SERVICE:=execution-apiserver-etcd}"
: "${CLUSTER_DOMAIN:=cluster.local}"
: "${KUBECTL:=kubectl}"

mkdir -p "$1"
chmod 700 "$1"
OUTDIR="$(cd "$1" && pwd)"
# hack/lib/pki.sh writes its CA into PKI_DIR.
PKI_DIR="${OUTDIR}"
# shellcheck source=lib/pki.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/pki.sh"

svc="${ETCD_SERVICE}.${NAMESPACE}.svc"
sans="DNS:*.${svc},DNS:*.${svc}.${CLUSTER_DOMAIN},DNS:${svc},DNS:${svc}.${CLUSTER_DOMAIN},DNS:localhost,IP:127.0.0.1"

pki_ensure_ca ca "${ETCD_SERVICE}-ca"
pki_sign "${OUTDIR}/server" ca peer "/CN=${ETCD_SERVICE}" "${sans}"
pki_sign "${OUTDIR}/peer" ca peer "/CN=${ETCD_SERVICE}-peer" "${sans}"
pki_sign "${OUTDIR}/client" ca client "/CN=execution-apiserver"

for name in server peer client; do
  printf '%q -n %q create secret generic %q --type=kubernetes.io/tls --from-file=tls.crt=%q --from-file=tls.key=%q --from-file=ca.crt=%q\n' \
    "${KUBECTL}" "${NAMESPACE}" "execution-apiserver-etcd-${name}" \
    "${OUTDIR}/${name}.crt" "${OUTDIR}/${name}.key" "${OUTDIR}/ca.crt"
done
