// Package e2e tests KubeGene end to end: the BUILT kubectl (_output/bin/kubectl)
// and the machine's own older kubectl against the local stack of
// hack/local-up.sh (real kube-apiserver, kube-controller-manager,
// kube-scheduler, etcd, kwok as the kubelet, execution-apiserver aggregated).
//
// TestMain builds and starts the stack and stops it at the end, or reuses a
// stack that is already running (and leaves it up); see framework.Main and
// README.md. Run with a generous timeout:
//
//	go test -count=1 -v ./test/e2e/ -timeout 30m
package e2e

import (
	"os"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
)

func TestMain(m *testing.M) {
	os.Exit(framework.Main(m))
}
