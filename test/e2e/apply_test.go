package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/test/e2e/framework"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func managedEntry(fields []metav1.ManagedFieldsEntry, manager string, op metav1.ManagedFieldsOperationType) *metav1.ManagedFieldsEntry {
	for i := range fields {
		if fields[i].Manager == manager && fields[i].Operation == op && fields[i].Subresource == "" {
			return &fields[i]
		}
	}
	return nil
}

// TestServerSideApply: kubectl apply --server-side creates an Execution, a
// re-apply changes nothing, another field manager changing spec conflicts and,
// forced, is refused because spec is immutable; a second manager may own
// labels next to kubectl's spec.
func TestServerSideApply(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-ssa")
	const name = "ssa"
	order := []string{"a", "b"}
	deps := map[string][]string{"b": {"a"}}
	file := writeFile(t, "ssa.yaml", framework.ExecutionManifest(name, order,
		map[string][]string{"a": {"echo a"}, "b": {"echo b1", "echo b2"}}, deps))
	changed := writeFile(t, "ssa-changed.yaml", framework.ExecutionManifest(name, order,
		map[string][]string{"a": {"echo a, changed"}, "b": {"echo b1", "echo b2"}}, deps))

	r := f.Kubectl.MustRun("apply", "--server-side", "-f", file, "-n", ns)
	if want := "execution.execution.kubegene.io/" + name + " serverside-applied"; !strings.Contains(r.Stdout, want) {
		t.Errorf("kubectl apply --server-side said %q, want %q", r.Stdout, want)
	}
	e := f.GetExecution(ns, name)
	if e.Generation != 1 {
		t.Errorf("generation %d after create, want 1", e.Generation)
	}
	entry := managedEntry(e.ManagedFields, "kubectl", metav1.ManagedFieldsOperationApply)
	if entry == nil || entry.FieldsV1 == nil || !strings.Contains(string(entry.FieldsV1.Raw), `"f:spec"`) {
		t.Fatalf("no Apply entry of manager kubectl owning spec in managedFields: %+v", e.ManagedFields)
	}
	appliedAt := entry.Time

	t.Run("re-apply is a no-op", func(t *testing.T) {
		k := f.Kubectl.For(t)
		// Managed-field times have a resolution of one second.
		time.Sleep(1100 * time.Millisecond)
		// The controller (when it runs) writes status meanwhile, which moves
		// the resourceVersion; a round without such a write must see none.
		noop := false
		for attempt := 0; attempt < 10 && !noop; attempt++ {
			before := f.GetExecution(ns, name).ResourceVersion
			k.MustRun("apply", "--server-side", "-f", file, "-n", ns)
			after := f.GetExecution(ns, name).ResourceVersion
			noop = before == after
			if !noop {
				time.Sleep(time.Second)
			}
		}
		if !noop {
			t.Errorf("every re-apply changed the resourceVersion")
		}
		e := f.GetExecution(ns, name)
		if e.Generation != 1 {
			t.Errorf("generation %d after re-apply, want 1", e.Generation)
		}
		if entry := managedEntry(e.ManagedFields, "kubectl", metav1.ManagedFieldsOperationApply); entry == nil || !entry.Time.Equal(appliedAt) {
			t.Errorf("kubectl's Apply entry changed: %+v (was at %v)", entry, appliedAt)
		}
	})

	t.Run("another manager changing spec conflicts", func(t *testing.T) {
		k := f.Kubectl.For(t)
		r := k.MustFail("apply", "--server-side", "--field-manager=e2e-other", "-f", changed, "-n", ns)
		for _, want := range []string{"conflict", `"kubectl"`, ".spec.tasks"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("stderr does not contain %q:\n%s", want, r.Stderr)
			}
		}
		r = k.MustFail("apply", "--server-side", "--force-conflicts", "--field-manager=e2e-other", "-f", changed, "-n", ns)
		for _, want := range []string{`The Execution "ssa" is invalid`, "spec: Forbidden", "spec is immutable"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("forced: stderr does not contain %q:\n%s", want, r.Stderr)
			}
		}
		// Not through apply either.
		r = k.MustFail("patch", "execution", name, "-n", ns, "--type=merge", "-p", `{"spec":{"parallelism":1}}`)
		if !strings.Contains(r.Stderr, "spec is immutable") {
			t.Errorf("kubectl patch of spec: %s", r.Stderr)
		}
		e := f.GetExecution(ns, name)
		if e.Generation != 1 || !slices.Equal(e.Spec.Tasks[0].Commands, []string{"echo a"}) || e.Spec.Parallelism != nil {
			t.Errorf("spec changed: generation %d, spec %+v", e.Generation, e.Spec)
		}
	})

	t.Run("another manager may own labels", func(t *testing.T) {
		k := f.Kubectl.For(t)
		labels := writeFile(t, "labels.yaml", "apiVersion: execution.kubegene.io/v1alpha1\nkind: Execution\nmetadata:\n  name: "+name+"\n  labels:\n    team: e2e\n")
		k.MustRun("apply", "--server-side", "--field-manager=e2e-labeller", "-f", labels, "-n", ns)
		e := f.GetExecution(ns, name)
		if e.Labels["team"] != "e2e" {
			t.Errorf("labels %v, want team=e2e", e.Labels)
		}
		if entry := managedEntry(e.ManagedFields, "e2e-labeller", metav1.ManagedFieldsOperationApply); entry == nil || !strings.Contains(string(entry.FieldsV1.Raw), `"f:team"`) {
			t.Errorf("e2e-labeller does not own metadata.labels.team: %+v", e.ManagedFields)
		}
		if entry := managedEntry(e.ManagedFields, "kubectl", metav1.ManagedFieldsOperationApply); entry == nil || !strings.Contains(string(entry.FieldsV1.Raw), `"f:spec"`) {
			t.Errorf("kubectl no longer owns spec: %+v", e.ManagedFields)
		}
		if len(e.Spec.Tasks) != 2 || e.Generation != 1 {
			t.Errorf("spec changed by a metadata-only apply: generation %d, %+v", e.Generation, e.Spec)
		}
	})
}

// TestGetWatch: kubectl get executions -w prints the existing rows, then a
// row when an Execution is created and when one is labelled.
func TestGetWatch(t *testing.T) {
	f := framework.New(t)
	ns := f.CreateNamespace("e2e-watch")
	one := map[string][]string{"a": {"echo a"}}
	f.Kubectl.Apply(framework.ExecutionManifest("watch-a", []string{"a"}, one, nil), "-n", ns)

	w := f.Kubectl.Start(2*time.Minute, "get", "executions", "-n", ns, "-w", "--show-labels")
	fields := func(line string) []string { return strings.Fields(line) }
	header := w.WaitForLine(30*time.Second, "the header", func(l string) bool {
		return slices.Equal(fields(l), []string{"NAME", "PHASE", "PROGRESS", "AGE", "LABELS"})
	})
	t.Logf("header: %s", header)
	w.WaitForLine(30*time.Second, "the row of watch-a", func(l string) bool {
		f := fields(l)
		return len(f) == 5 && f[0] == "watch-a"
	})

	f.Kubectl.Apply(framework.ExecutionManifest("watch-b", []string{"a"}, one, nil), "-n", ns)
	w.WaitForLine(30*time.Second, "a row for the new execution watch-b", func(l string) bool {
		f := fields(l)
		return len(f) == 5 && f[0] == "watch-b"
	})

	f.Kubectl.MustRun("label", "execution", "watch-a", "-n", ns, "a=b")
	w.WaitForLine(30*time.Second, "a row for watch-a labelled a=b", func(l string) bool {
		f := fields(l)
		return len(f) == 5 && f[0] == "watch-a" && slices.Contains(strings.Split(f[4], ","), "a=b")
	})
	w.Stop()
}
