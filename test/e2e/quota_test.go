package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/test/e2e/framework"
)

// TestExecutionQuota: a ResourceQuota of count/executions.execution.kubegene.io
// "2" refuses a third Execution with kube-apiserver's usual 403 "exceeded
// quota"; deleting one lets a new one in; kubectl describe quota shows the
// usage.
func TestExecutionQuota(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-quota")
	k := f.Kubectl
	k.Apply(`apiVersion: v1
kind: ResourceQuota
metadata:
  name: executions
spec:
  hard:
    count/executions.execution.kubegene.io: "2"
`, "-n", ns)
	// kube-controller-manager's quota controller fills in the usage first.
	f.WaitFor(2*time.Minute, "the quota's usage to be computed", func() (bool, string) {
		r := k.Run("get", "resourcequota", "executions", "-n", ns, "-o", `jsonpath={.status.used.count/executions\.execution\.kubegene\.io}`)
		return strings.TrimSpace(r.Stdout) == "0", r.Combined()
	})
	manifest := func(name string) string {
		return controlManifest(name, []string{"suspend: true"}, controlTask("a", []string{"echo a"}))
	}
	k.Apply(manifest("one"), "-n", ns)
	k.Apply(manifest("two"), "-n", ns)
	r := k.MustFailInput(manifest("three"), "apply", "-n", ns, "-f", "-")
	if !strings.Contains(r.Stderr, "forbidden") || !strings.Contains(r.Stderr, "exceeded quota: executions") ||
		!strings.Contains(r.Stderr, "count/executions.execution.kubegene.io=1, used: count/executions.execution.kubegene.io=2, limited: count/executions.execution.kubegene.io=2") {
		t.Errorf("third execution over a quota of 2: %s", r.Stderr)
	}
	describe := k.MustRun("describe", "resourcequota", "executions", "-n", ns).Stdout
	if !strings.Contains(describe, "count/executions.execution.kubegene.io") || !strings.Contains(describe, "2     2") {
		t.Errorf("kubectl describe quota:\n%s", describe)
	}

	k.MustRun("delete", "execution", "one", "-n", ns, "--wait=true")
	f.WaitFor(time.Minute, "a new execution to fit the quota again", func() (bool, string) {
		r = k.Exec(manifest("three"), "apply", "-n", ns, "-f", "-")
		return r.Success(), fmt.Sprint(r.Combined())
	})
}
