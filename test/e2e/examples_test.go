package e2e

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/e2e/framework"
	"kubegene.io/kubegene/test/seed"
)

// phasesBeforeController are the phases an Execution may show whether or not
// the controller runs (and however far it got); Failed never is.
var phasesBeforeController = []v1alpha1.ExecutionPhase{v1alpha1.PhasePending, v1alpha1.PhaseRunning, v1alpha1.PhaseSucceeded}

// applySeedPVC applies the seed's PersistentVolume and claim (for exec-volume)
// and waits until the claim is Bound, as the seed tells users to check.
func applySeedPVC(f *framework.Framework) {
	f.T.Helper()
	f.T.Cleanup(func() {
		// After the executions (cleanups run last-in first-out).
		f.Kubectl.Run("delete", "-f", f.Stack.Path("artifacts/examples/pvc.yaml"), "-n", "default", "--ignore-not-found", "--timeout=60s")
		f.Kubectl.Run("delete", "-f", f.Stack.Path("artifacts/examples/pv.yaml"), "--ignore-not-found", "--timeout=60s")
	})
	f.Kubectl.MustRun("apply", "-f", f.Stack.Path("artifacts/examples/pv.yaml"))
	f.Kubectl.MustRun("apply", "-f", f.Stack.Path("artifacts/examples/pvc.yaml"), "-n", "default")
	f.WaitFor(time.Minute, "PVC default/exec-pvc Bound", func() (bool, string) {
		r := f.Kubectl.Run("get", "pvc", "exec-pvc", "-n", "default", "--template={{.status.phase}}")
		return r.Success() && r.Stdout == "Bound", r.Combined()
	})
}

// TestSeedExamplesApply: the seed's three Executions apply as they are, list
// with the Execution columns, and render status.vertices with the seed's
// children.
func TestSeedExamplesApply(t *testing.T) {
	f := framework.New(t)
	applySeedPVC(f)
	for _, name := range seed.Examples {
		ns, r := f.ApplyExample(name)
		if ns != "default" {
			t.Errorf("%s applied to namespace %s, want default", name, ns)
		}
		if want := "execution.execution.kubegene.io/" + name + " created"; !strings.Contains(r.Stdout, want) {
			t.Errorf("kubectl apply -f artifacts/examples/%s.yaml said %q, want %q", name, r.Stdout, want)
		}
	}

	t.Run("get", func(t *testing.T) {
		k := f.Kubectl.For(t)
		table := mustTable(t, k.MustRun("get", "executions", "-n", "default").Stdout)
		if want := []string{"NAME", "PHASE", "PROGRESS", "AGE"}; !slices.Equal(table.Columns, want) {
			t.Errorf("columns %v, want %v", table.Columns, want)
		}
		progress := regexp.MustCompile(`^[0-4]/4$`)
		for _, name := range seed.Examples {
			row := table.Row("NAME", name)
			if row == nil {
				t.Errorf("no row for %s", name)
				continue
			}
			if !slices.Contains(phasesBeforeController, v1alpha1.ExecutionPhase(row["PHASE"])) {
				t.Errorf("%s: PHASE %q, want one of %v", name, row["PHASE"], phasesBeforeController)
			}
			if !progress.MatchString(row["PROGRESS"]) {
				t.Errorf("%s: PROGRESS %q, want N/4", name, row["PROGRESS"])
			}
			if row["AGE"] == "" {
				t.Errorf("%s: empty AGE", name)
			}
		}
	})

	t.Run("get -o wide", func(t *testing.T) {
		k := f.Kubectl.For(t)
		table := mustTable(t, k.MustRun("get", "executions", "-n", "default", "-o", "wide").Stdout)
		if want := []string{"NAME", "PHASE", "PROGRESS", "AGE", "TASKS", "SUSPENDED", "MESSAGE"}; !slices.Equal(table.Columns, want) {
			t.Errorf("columns %v, want %v", table.Columns, want)
		}
		for _, name := range seed.Examples {
			row := table.Row("NAME", name)
			if row == nil {
				t.Errorf("no row for %s", name)
				continue
			}
			if row["TASKS"] != "2" {
				t.Errorf("%s: TASKS %q, want 2", name, row["TASKS"])
			}
			if row["PHASE"] == string(v1alpha1.PhaseSucceeded) && row["MESSAGE"] != "execution has run successfully" {
				t.Errorf("%s: Succeeded with MESSAGE %q, want the seed's %q", name, row["MESSAGE"], "execution has run successfully")
			}
		}
	})

	t.Run("get -o yaml vertices", func(t *testing.T) {
		k := f.Kubectl.For(t)
		for _, name := range seed.Examples {
			out := k.MustRun("get", "execution", name, "-n", "default", "-o", "yaml").Stdout
			jobs := seedJobs(name)
			if len(jobs) == 0 {
				t.Fatalf("test/seed has no vertices of %s", name)
			}
			first := jobs[0] // NAME.a.0, a parent
			for _, want := range []string{"status:", "  vertices:", "    " + first + ":", "      children:", "      - " + seed.Children[first][0]} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("%s: -o yaml has no line %q:\n%s", name, want, out)
				}
			}
			e := &v1alpha1.Execution{}
			if err := yaml.UnmarshalStrict([]byte(out), e); err != nil {
				t.Fatalf("%s: -o yaml does not decode strictly as an Execution: %v", name, err)
			}
			if len(e.Status.Vertices) != len(jobs) {
				t.Errorf("%s: %d vertices, want %d: %v", name, len(e.Status.Vertices), len(jobs), e.Status.Vertices)
			}
			for _, job := range jobs {
				v, ok := e.Status.Vertices[job]
				if !ok {
					t.Errorf("%s: no vertex %s", name, job)
					continue
				}
				if v.ID != job || v.Name != job {
					t.Errorf("%s: vertex %s has id %q name %q, want both %q", name, job, v.ID, v.Name, job)
				}
				if !reflect.DeepEqual(v.Children, seed.Children[job]) {
					t.Errorf("%s: vertex %s children %v, want %v (the seed's)", name, job, v.Children, seed.Children[job])
				}
				if !slices.Contains(phasesBeforeController, v.Phase) {
					t.Errorf("%s: vertex %s phase %q, want one of %v", name, job, v.Phase, phasesBeforeController)
				}
			}
			if !slices.Contains(phasesBeforeController, e.Status.Phase) {
				t.Errorf("%s: phase %q, want one of %v", name, e.Status.Phase, phasesBeforeController)
			}
		}
	})
}
