package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/version"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
)

// olderKubectl is the machine's own kubectl: $KUBEGENE_E2E_OLDER_KUBECTL, or
// kubectl on PATH (not the built one).
func olderKubectl(t *testing.T, built string) string {
	t.Helper()
	if p := os.Getenv("KUBEGENE_E2E_OLDER_KUBECTL"); p != "" {
		return p
	}
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("no kubectl on PATH to test as the older client (%v): install one or set KUBEGENE_E2E_OLDER_KUBECTL", err)
	}
	if abs, _ := filepath.EvalSymlinks(p); abs == built {
		t.Fatalf("kubectl on PATH is the built one (%s): set KUBEGENE_E2E_OLDER_KUBECTL to an older client", p)
	}
	return p
}

func clientMinor(t *testing.T, k *framework.Kubectl) (int, string) {
	t.Helper()
	// kubectl's own version output: the client's version.Info and more.
	var v struct {
		ClientVersion version.Info `json:"clientVersion"`
	}
	r := k.MustRun("version", "--client", "-o", "json")
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, r.Stdout)
	}
	minor, err := strconv.Atoi(strings.TrimRight(v.ClientVersion.Minor, "+"))
	if err != nil {
		t.Fatalf("kubectl version minor %q: %v", v.ClientVersion.Minor, err)
	}
	return minor, v.ClientVersion.GitVersion
}

// TestOlderKubectl: the machine's older kubectl (1.32) applies and lists
// Executions too.
func TestOlderKubectl(t *testing.T) {
	f := framework.New(t)
	old := f.KubectlAt(olderKubectl(t, f.Stack.KubectlPath))
	oldMinor, oldVersion := clientMinor(t, old)
	builtMinor, builtVersion := clientMinor(t, f.Kubectl)
	t.Logf("older kubectl %s (%s), built kubectl %s", oldVersion, old.Path, builtVersion)
	if oldMinor >= builtMinor {
		t.Fatalf("kubectl %s at %s is not older than the built %s", oldVersion, old.Path, builtVersion)
	}

	ns := f.CreateNamespace("e2e-oldkubectl")
	file := writeFile(t, "old.yaml", framework.ExecutionManifest("old-client", []string{"a", "b"},
		map[string][]string{"a": {"echo a1", "echo a2"}, "b": {"echo b1", "echo b2"}}, map[string][]string{"b": {"a:iterate"}}))
	r := old.MustRun("apply", "-f", file, "-n", ns)
	if !strings.Contains(r.Stdout, "execution.execution.kubegene.io/old-client created") {
		t.Errorf("apply: %s", r.Stdout)
	}
	// Client-side apply again changes nothing. (kubectl may still say
	// "configured": task a has no dependents in the file but reads back with
	// `dependents: null`, and spec.tasks is an atomic list, so the patch is
	// not empty although it changes nothing.)
	rv := func() string {
		return old.MustRun("get", "execution", "old-client", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}/{.metadata.generation}").Stdout
	}
	noop := false
	for attempt := 0; attempt < 10 && !noop; attempt++ {
		before := rv()
		r := old.MustRun("apply", "-f", file, "-n", ns)
		if !strings.Contains(r.Stdout, "execution.execution.kubegene.io/old-client ") {
			t.Errorf("re-apply: %s", r.Stdout)
		}
		noop = rv() == before
	}
	if !noop {
		t.Errorf("every client-side re-apply changed the Execution")
	}

	table := mustTable(t, old.MustRun("get", "executions", "-n", ns).Stdout)
	if want := []string{"NAME", "PHASE", "PROGRESS", "AGE"}; !slices.Equal(table.Columns, want) {
		t.Errorf("columns %v, want %v", table.Columns, want)
	}
	row := table.Row("NAME", "old-client")
	if row == nil || !slices.Contains([]string{"Pending", "Running", "Succeeded"}, row["PHASE"]) || !strings.HasSuffix(row["PROGRESS"], "/4") {
		t.Errorf("row %v", row)
	}

	e := &v1alpha1.Execution{}
	old.GetJSON(e, "get", "execution", "old-client", "-n", ns)
	if got := e.Status.Vertices["old-client.a.1"].Children; !slices.Equal(got, []string{"old-client.b.1"}) {
		t.Errorf("vertex old-client.a.1 children %v, want [old-client.b.1]", got)
	}
	old.MustRun("get", "exec", "old-client", "-n", ns)
}
