package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/test/e2e/framework"
)

func assertForbidden(t *testing.T, r framework.Result, user string) {
	t.Helper()
	if !strings.Contains(strings.ToLower(r.Stderr), "forbidden") || !strings.Contains(r.Stderr, `User "`+user+`"`) {
		t.Errorf("want a Forbidden error for user %s, got:\n%s", user, r.Stderr)
	}
}

// TestRBACDelegation: cluster RBAC governs executions per namespace, through
// the aggregator and at the execution-apiserver itself (delegated
// authentication and SubjectAccessReview). alice has the built-in edit role in
// tenant-a (which aggregates executions, and has batch/jobs), carol has view.
func TestRBACDelegation(t *testing.T) {
	f := framework.New(t)
	tenantA := f.CreateNamespace("tenant-a")
	tenantB := f.CreateNamespace("tenant-b")
	f.Kubectl.MustRun("create", "rolebinding", "alice-edit", "--clusterrole=edit", "--user=alice", "-n", tenantA)
	f.Kubectl.MustRun("create", "rolebinding", "carol-view", "--clusterrole=view", "--user=carol", "-n", tenantA)
	alice := f.User("alice")
	carol := f.User("carol")

	// RBAC in kube-apiserver sees the bindings (its informers lag slightly).
	for _, c := range []struct {
		k    *framework.Kubectl
		args []string
	}{
		{alice, []string{"create", "executions.execution.kubegene.io"}},
		{alice, []string{"create", "jobs.batch"}},
		{carol, []string{"get", "executions.execution.kubegene.io", "--subresource=graph"}},
	} {
		f.WaitFor(30*time.Second, "kubectl auth can-i "+strings.Join(c.args, " "), func() (bool, string) {
			r := c.k.Run(append([]string{"auth", "can-i", "-n", tenantA}, c.args...)...)
			return strings.TrimSpace(r.Stdout) == "yes", r.Combined()
		})
	}

	manifest := framework.ExecutionManifest("tenant-exec", []string{"a", "b"},
		map[string][]string{"a": {"echo a1", "echo a2"}, "b": {"echo b1", "echo b2"}}, map[string][]string{"b": {"a"}})
	graphPath := func(ns string) string {
		return "/apis/execution.kubegene.io/v1alpha1/namespaces/" + ns + "/executions/tenant-exec/graph"
	}

	t.Run("alice edits tenant-a", func(t *testing.T) {
		k := alice.For(t)
		r := k.Apply(manifest, "-n", tenantA)
		if !strings.Contains(r.Stdout, "tenant-exec created") {
			t.Errorf("apply: %s", r.Stdout)
		}
		table := mustTable(t, k.MustRun("get", "execution", "tenant-exec", "-n", tenantA).Stdout)
		if table.Row("NAME", "tenant-exec") == nil {
			t.Errorf("alice does not see tenant-exec")
		}
		k.MustRun("get", "--raw", graphPath(tenantA))
	})

	t.Run("alice is forbidden in tenant-b", func(t *testing.T) {
		k := alice.For(t)
		assertForbidden(t, k.MustFailInput(manifest, "create", "-f", "-", "-n", tenantB), "alice")
		assertForbidden(t, k.MustFailInput(manifest, "apply", "-f", "-", "-n", tenantB), "alice")
		assertForbidden(t, k.MustFail("get", "executions", "-n", tenantB), "alice")
	})

	t.Run("carol views tenant-a", func(t *testing.T) {
		k := carol.For(t)
		out := k.MustRun("get", "--raw", graphPath(tenantA)).Stdout
		g := &graphJSON{}
		if err := json.Unmarshal([]byte(out), g); err != nil || len(g.Vertices) != 4 || len(g.Edges) != 4 {
			t.Errorf("carol's graph: %v\n%s", err, out)
		}
		k.MustRun("get", "executions", "-n", tenantA)
		assertForbidden(t, k.MustFailInput(strings.Replace(manifest, "tenant-exec", "carol-exec", 1), "create", "-f", "-", "-n", tenantA), "carol")
		assertForbidden(t, k.MustFail("label", "execution", "tenant-exec", "-n", tenantA, "by=carol"), "carol")
		assertForbidden(t, k.MustFail("delete", "execution", "tenant-exec", "-n", tenantA), "carol")
		assertForbidden(t, k.MustFail("get", "--raw", graphPath(tenantB)), "carol")
	})

	// Straight to the execution-apiserver, not through kube-apiserver: it
	// authenticates the client certificate itself and asks kube-apiserver
	// (SubjectAccessReview) whether the user may.
	t.Run("execution-apiserver authorizes by delegation", func(t *testing.T) {
		server := "--server=" + f.Stack.ExecutionAPIServerURL()
		collection := func(ns string) string { return "/apis/execution.kubegene.io/v1alpha1/namespaces/" + ns + "/executions" }
		out := alice.For(t).MustRun(server, "get", "--raw", collection(tenantA)).Stdout
		if !strings.Contains(out, `"name":"tenant-exec"`) {
			t.Errorf("alice's list from the execution-apiserver:\n%s", out)
		}
		assertForbidden(t, alice.For(t).MustFail(server, "get", "--raw", collection(tenantB)), "alice")
		carol.For(t).MustRun(server, "get", "--raw", graphPath(tenantA))
		assertForbidden(t, carol.For(t).MustFail(server, "get", "--raw", graphPath(tenantB)), "carol")
	})
}
