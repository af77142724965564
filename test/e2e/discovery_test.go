package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"kubegene.io/kubegene/test/e2e/framework"
)

// TestAPIServiceAvailable: the aggregator reports the execution API Available.
func TestAPIServiceAvailable(t *testing.T) {
	f := framework.New(t)
	var apiService struct {
		Spec struct {
			Group   string `json:"group"`
			Version string `json:"version"`
			Service struct {
				Namespace string `json:"namespace"`
				Name      string `json:"name"`
			} `json:"service"`
		} `json:"spec"`
		Status struct {
			Conditions []struct {
				Type, Status, Reason, Message string
			} `json:"conditions"`
		} `json:"status"`
	}
	f.Kubectl.GetJSON(&apiService, "get", "apiservice", framework.APIService)
	if apiService.Spec.Group != "execution.kubegene.io" || apiService.Spec.Version != "v1alpha1" {
		t.Errorf("APIService serves %s/%s, want execution.kubegene.io/v1alpha1", apiService.Spec.Group, apiService.Spec.Version)
	}
	if s := apiService.Spec.Service; s.Namespace != "kubegene-system" || s.Name != "execution-apiserver" {
		t.Errorf("APIService points at %s/%s, want kubegene-system/execution-apiserver", s.Namespace, s.Name)
	}
	available := false
	for _, c := range apiService.Status.Conditions {
		if c.Type == "Available" {
			available = c.Status == "True"
			if !available {
				t.Errorf("Available=%s: %s: %s", c.Status, c.Reason, c.Message)
			}
		}
	}
	if !available {
		t.Errorf("APIService %s is not Available: %+v", framework.APIService, apiService.Status.Conditions)
	}

	// The table kubectl prints says the same.
	table := mustTable(t, f.Kubectl.MustRun("get", "apiservice", framework.APIService).Stdout)
	if row := table.Row("NAME", framework.APIService); row == nil || row["AVAILABLE"] != "True" {
		t.Errorf("kubectl get apiservice: row %v, want AVAILABLE True", row)
	}
}

// TestAPIResources: discovery lists executions with its short name, scope and kind.
func TestAPIResources(t *testing.T) {
	f := framework.New(t)
	out := f.Kubectl.MustRun("api-resources", "--api-group=execution.kubegene.io").Stdout
	table := mustTable(t, out)
	wantColumns := []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}
	if strings.Join(table.Columns, " ") != strings.Join(wantColumns, " ") {
		t.Errorf("columns %v, want %v", table.Columns, wantColumns)
	}
	if len(table.Rows) != 1 {
		t.Fatalf("%d resources in execution.kubegene.io, want 1 (executions; subresources are not listed):\n%s", len(table.Rows), out)
	}
	want := map[string]string{
		"NAME":       "executions",
		"SHORTNAMES": "exec",
		"APIVERSION": "execution.kubegene.io/v1alpha1",
		"NAMESPACED": "true",
		"KIND":       "Execution",
	}
	for col, v := range want {
		if got := table.Rows[0][col]; got != v {
			t.Errorf("%s = %q, want %q", col, got, v)
		}
	}

	// The short name resolves.
	f.Kubectl.MustRun("get", "exec", "-n", "default")
}

// TestExplainDependents: the published OpenAPI documents spec.tasks.dependents.
func TestExplainDependents(t *testing.T) {
	f := framework.New(t)
	checkExplainDependents(t, f.Kubectl.MustRun("explain", "executions.spec.tasks.dependents").Stdout)
}

// TestExplainRightAfterUp: the execution API is usable as soon as the stack
// says it is ready. framework.Main runs `kubectl explain
// executions.spec.tasks.dependents` (then `kubectl api-resources`) with an
// empty discovery cache right after its set-up returns, before any test and
// without retrying; here are the answers. When `hack/local-up.sh up`
// returned on the APIService's Available condition alone, explain failed
// for a few seconds after it: couldn't find resource for
// "execution.kubegene.io/v1alpha1, Resource=executions".
//
// It proves that only when this run started the stack (the execution-apiserver
// or kube-apiserver); on a reused stack it checks the answers and then skips,
// saying so.
func TestExplainRightAfterUp(t *testing.T) {
	s := framework.New(t).Stack
	look := s.FirstLook()
	if !look.Explain.Success() {
		t.Errorf("right after set-up, kubectl explain failed:\n%s", look.Explain)
	} else {
		checkExplainDependents(t, look.Explain.Stdout)
	}
	if !look.APIResources.Success() {
		t.Errorf("right after set-up, kubectl api-resources failed:\n%s", look.APIResources)
	} else if table, err := framework.ParseTable(look.APIResources.Stdout); err != nil || table.Row("NAME", "executions") == nil {
		t.Errorf("right after set-up, kubectl api-resources --api-group=execution.kubegene.io does not list executions (%v):\n%s", err, look.APIResources)
	}

	started := s.StartedBySetUp()
	if !slices.Contains(started, "execution-apiserver") && !slices.Contains(started, "kube-apiserver") {
		t.Skipf("this run reused a running kube-apiserver and execution-apiserver (it started %v): "+
			"the answers above say nothing about how soon the stack is usable after it starts", started)
	}
	t.Logf("this run started %v; kubectl explain (exit %d after %s) ran right after set-up returned", started,
		look.Explain.ExitCode, look.Explain.Duration.Round(time.Millisecond))
}

// checkExplainDependents checks that kubectl explain documents
// spec.tasks.dependents: its group, kind and version, the field's type and
// both of its fields, with descriptions.
func checkExplainDependents(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{
		"GROUP:      execution.kubegene.io",
		"KIND:       Execution",
		"VERSION:    v1alpha1",
		"FIELD: dependents <[]Dependent>",
		"target",
		"-required-",
		"type",
		"whole",
		"iterate",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl explain executions.spec.tasks.dependents does not say %q:\n%s", want, out)
		}
	}
	// The description of each field, not only its name.
	if !regexpMatch(`(?s)target\s+<string>.*\S+.*type\s+<string>`, out) {
		t.Errorf("fields target and type are not both documented:\n%s", out)
	}
}
