package e2e

import (
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/test/e2e/framework"
)

// TestNoExecutionsInMissingOrTerminatingNamespaces: the NamespaceLifecycle
// admission plugin of the execution-apiserver refuses Executions in a
// namespace that does not exist or is being deleted.
func TestNoExecutionsInMissingOrTerminatingNamespaces(t *testing.T) {
	f := framework.New(t)
	k := f.Kubectl
	manifest := framework.ExecutionManifest("lifecycle", []string{"a"}, map[string][]string{"a": {"echo a"}}, nil)

	missing := "e2e-missing-" + framework.RandomSuffix()
	r := k.MustFailInput(manifest, "create", "-f", "-", "-n", missing)
	if !strings.Contains(r.Stderr, `namespaces "`+missing+`" not found`) {
		t.Errorf("create in a missing namespace: %s", r.Stderr)
	}

	// A ConfigMap with a finalizer keeps the namespace Terminating.
	ns := f.CreateNamespace("e2e-terminating")
	k.MustRunInput("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hold\n  finalizers: [kubegene.io/e2e-hold]\n", "create", "-f", "-", "-n", ns)
	t.Cleanup(func() {
		k.Run("patch", "configmap", "hold", "-n", ns, "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	})
	k.MustRun("delete", "namespace", ns, "--wait=false")
	f.WaitFor(time.Minute, "namespace "+ns+" to be Terminating", func() (bool, string) {
		phase := strings.TrimSpace(k.Run("get", "namespace", ns, "-o", "jsonpath={.status.phase}").Stdout)
		return phase == "Terminating", phase
	})
	f.WaitFor(time.Minute, "a create in the terminating namespace to be refused", func() (bool, string) {
		r := k.Exec(manifest, "create", "-f", "-", "-n", ns)
		return !r.Success() && strings.Contains(r.Stderr, "because it is being terminated"), r.Combined()
	})
}
