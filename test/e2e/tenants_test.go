package e2e

import (
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// TestTenantsCannotGainThroughExecutions: four users, each with exactly what
// RBAC gives them, and an Execution never lets one do more.
//
//	alice   edit in tenant-a
//	bob     edit in tenant-b
//	carol   view in tenant-a
//	mallory a Role in tenant-a allowing executions (and their graph) but not jobs
func TestTenantsCannotGainThroughExecutions(t *testing.T) {
	f := framework.New(t)
	tenantA := f.CreateNamespace("tenant-a")
	tenantB := f.CreateNamespace("tenant-b")
	f.Kubectl.MustRun("create", "rolebinding", "alice-edit", "--clusterrole=edit", "--user=alice", "-n", tenantA)
	f.Kubectl.MustRun("create", "rolebinding", "bob-edit", "--clusterrole=edit", "--user=bob", "-n", tenantB)
	f.Kubectl.MustRun("create", "rolebinding", "carol-view", "--clusterrole=view", "--user=carol", "-n", tenantA)
	f.Kubectl.MustRun("create", "role", "executions-only", "-n", tenantA,
		"--verb=get,list,watch,create,update,patch,delete", "--resource=executions.execution.kubegene.io,executions.execution.kubegene.io/graph")
	f.Kubectl.MustRun("create", "rolebinding", "mallory-executions", "--role=executions-only", "--user=mallory", "-n", tenantA)
	alice, bob, carol, mallory := f.User("alice"), f.User("bob"), f.User("carol"), f.User("mallory")

	for _, c := range []struct {
		k         *framework.Kubectl
		namespace string
		args      []string
	}{
		{alice, tenantA, []string{"create", "executions.execution.kubegene.io"}},
		{bob, tenantB, []string{"create", "executions.execution.kubegene.io"}},
		{carol, tenantA, []string{"get", "executions.execution.kubegene.io"}},
		{mallory, tenantA, []string{"create", "executions.execution.kubegene.io"}},
	} {
		f.WaitFor(30*time.Second, "RBAC for "+strings.Join(c.args, " "), func() (bool, string) {
			r := c.k.Run(append([]string{"auth", "can-i", "-n", c.namespace}, c.args...)...)
			return strings.TrimSpace(r.Stdout) == "yes", r.Combined()
		})
	}

	manifest := func(name string) string {
		return framework.ExecutionManifest(name, []string{"a", "b"},
			map[string][]string{"a": {"echo a1", "echo a2"}, "b": {"echo b1", "echo b2"}}, map[string][]string{"b": {"a"}})
	}
	alice.MustRunInput(manifest("alice-exec"), "create", "-f", "-", "-n", tenantA)
	bob.MustRunInput(manifest("bob-exec"), "create", "-f", "-", "-n", tenantB)

	t.Run("each lists only what RBAC lets them see", func(t *testing.T) {
		names := func(k *framework.Kubectl, ns string) string {
			return strings.TrimSpace(k.For(t).MustRun("get", "executions", "-n", ns, "-o", "name").Stdout)
		}
		if got := names(alice, tenantA); got != "execution.execution.kubegene.io/alice-exec" {
			t.Errorf("alice in tenant-a lists %q", got)
		}
		if got := names(bob, tenantB); got != "execution.execution.kubegene.io/bob-exec" {
			t.Errorf("bob in tenant-b lists %q", got)
		}
		for _, u := range []struct {
			k    *framework.Kubectl
			name string
		}{{alice, "alice"}, {bob, "bob"}, {carol, "carol"}, {mallory, "mallory"}} {
			assertForbidden(t, u.k.For(t).MustFail("get", "executions", "--all-namespaces"), u.name)
		}
		assertForbidden(t, bob.For(t).MustFail("get", "executions", "-n", tenantA), "bob")
		assertForbidden(t, bob.For(t).MustFail("get", "--raw", graphURL(tenantA, "alice-exec")), "bob")
		assertForbidden(t, alice.For(t).MustFail("get", "execution", "bob-exec", "-n", tenantB), "alice")
	})

	t.Run("mallory's execution is refused by the job permission check", func(t *testing.T) {
		r := mallory.For(t).MustFailInput(manifest("mallory-exec"), "create", "-f", "-", "-n", tenantA)
		if !strings.Contains(r.Stderr, "Forbidden") ||
			!strings.Contains(r.Stderr, `user "mallory" may not create batch/v1 jobs in namespace "`+tenantA+`"`) {
			t.Errorf("mallory's create: %s", r.Stderr)
		}
		// Nothing was stored, and mallory still reads what her Role allows.
		if out := mallory.For(t).MustRun("get", "executions", "-n", tenantA, "-o", "name").Stdout; strings.Contains(out, "mallory-exec") {
			t.Errorf("refused execution stored: %s", out)
		}
		mallory.For(t).MustRun("get", "--raw", graphURL(tenantA, "alice-exec"))
	})

	t.Run("carol reads but cannot write status", func(t *testing.T) {
		k := carol.For(t)
		k.MustRun("get", "--raw", graphURL(tenantA, "alice-exec"))
		k.MustRun("get", "execution", "alice-exec", "-n", tenantA, "--subresource=status")
		assertForbidden(t, k.MustFail("patch", "execution", "alice-exec", "-n", tenantA, "--subresource=status",
			"--type=merge", "-p", `{"status":{"phase":"Failed"}}`), "carol")
	})

	e := f.WaitForExecutionPhase(tenantA, "alice-exec", 3*time.Minute, v1alpha1.PhaseSucceeded)

	t.Run("the server owns status, the creator and the spec", func(t *testing.T) {
		k := alice.For(t)
		if got := e.Annotations[v1alpha1.CreatedByAnnotation]; got != "alice" {
			t.Errorf("created-by = %q, want alice", got)
		}
		jobs := f.JobsOwnedBy(tenantA, e.UID)
		if len(jobs) != 4 {
			t.Errorf("alice-exec owns %d jobs, want 4", len(jobs))
		}
		for _, job := range jobs {
			if got := job.Annotations[v1alpha1.CreatedByAnnotation]; got != "alice" {
				t.Errorf("job %s created-by = %q, want alice", job.Name, got)
			}
		}
		// Status through the main resource is ignored.
		k.MustRun("patch", "execution", "alice-exec", "-n", tenantA, "--type=merge", "-p", `{"status":{"phase":"Failed"}}`)
		// The creator annotation cannot be forged.
		k.MustRun("annotate", "execution", "alice-exec", "-n", tenantA, "--overwrite", v1alpha1.CreatedByAnnotation+"=mallory")
		after := f.GetExecution(tenantA, "alice-exec")
		if after.Status.Phase != v1alpha1.PhaseSucceeded || after.Annotations[v1alpha1.CreatedByAnnotation] != "alice" {
			t.Errorf("after client writes: phase %s, created-by %q", after.Status.Phase, after.Annotations[v1alpha1.CreatedByAnnotation])
		}
		// The spec cannot change.
		r := k.MustFail("patch", "execution", "alice-exec", "-n", tenantA, "--type=json",
			"-p", `[{"op":"replace","path":"/spec/tasks/0/image","value":"evil"}]`)
		if !strings.Contains(r.Stderr, "spec: Forbidden: spec is immutable") {
			t.Errorf("spec change: %s", r.Stderr)
		}
	})
}

func graphURL(namespace, name string) string {
	return "/apis/execution.kubegene.io/v1alpha1/namespaces/" + namespace + "/executions/" + name + "/graph"
}
