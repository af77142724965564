package plugin

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/plugin/ -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var (
	created = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	started = created.Add(2 * time.Second)
	now     = started.Add(90 * time.Second)
)

func commands(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix
	}
	return out
}

// genome is a running Execution: align (40 jobs) -> call (40, iterate)
// -> report (1, whole), with some done, failed and running.
func genome() *v1alpha1.Execution {
	return &v1alpha1.Execution{
		ObjectMeta: metav1.ObjectMeta{Name: "genome", Namespace: "lab", CreationTimestamp: metav1.NewTime(created)},
		Spec: v1alpha1.ExecutionSpec{
			FailurePolicy: v1alpha1.ContinueIndependent,
			Tasks: []v1alpha1.Task{
				{Name: "align", Image: "bwa:0.7", Commands: commands("bwa mem", 40)},
				{Name: "call", Image: "gatk:4", Commands: commands("gatk", 40), Dependents: []v1alpha1.Dependent{{Target: "align", Type: v1alpha1.DependTypeIterate}}},
				{Name: "report", Image: "busybox", Commands: commands("echo", 1), Dependents: []v1alpha1.Dependent{{Target: "call", Type: v1alpha1.DependTypeWhole}}},
			},
		},
		Status: v1alpha1.ExecutionStatus{
			Phase:     v1alpha1.PhaseRunning,
			Message:   "1 failed so far; the jobs that do not depend on a failed job go on",
			StartedAt: ptr.To(metav1.NewTime(started)),
			Tasks: []v1alpha1.TaskStatus{
				{Name: "align", Created: "0-39", Succeeded: "0-29,31-37", Failed: "30",
					Messages: []v1alpha1.JobMessage{{Index: 30, Message: "BackoffLimitExceeded: Job has reached the specified backoff limit"}}},
				{Name: "call", Created: "0-9", Succeeded: "0-5"},
			},
		},
	}
}

func TestWriteProgress(t *testing.T) {
	var b bytes.Buffer
	WriteProgress(&b, Summarize(genome()), now)
	golden(t, "progress-running.txt", b.Bytes())

	done := genome()
	done.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseSucceeded, Message: "execution has run successfully",
		StartedAt: ptr.To(metav1.NewTime(started)), FinishedAt: ptr.To(metav1.NewTime(started.Add(time.Minute))),
		Tasks: []v1alpha1.TaskStatus{{Name: "align", Created: "0-39", Succeeded: "0-39"}, {Name: "call", Created: "0-39", Succeeded: "0-39"}, {Name: "report", Created: "0", Succeeded: "0"}}}
	b.Reset()
	WriteProgress(&b, Summarize(done), now)
	golden(t, "progress-succeeded.txt", b.Bytes())

	suspended := genome()
	suspended.Spec.Suspend = ptr.To(true)
	b.Reset()
	WriteLine(&b, Summarize(suspended), now)
	WriteLine(&b, Summarize(done), now)
	golden(t, "progress-lines.txt", b.Bytes())
}

func TestBar(t *testing.T) {
	s := Summarize(genome())
	if got := bar(s.Tasks[0].Counts); len(got) != barWidth+2 || !strings.HasPrefix(got, "[###") || !strings.Contains(got, "x") {
		t.Errorf("bar of align: %q", got)
	}
	if got := bar(s.Tasks[2].Counts); got != "["+strings.Repeat(".", barWidth)+"]" {
		t.Errorf("bar of a task with nothing done: %q", got)
	}
}

func TestWriteDescribe(t *testing.T) {
	e := genome()
	e.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionSuspended, Status: metav1.ConditionFalse, Reason: "Resumed"}}
	e.Status.Attempts = 2
	e.Spec.ActiveDeadlineSeconds = ptr.To[int64](3600)
	var b bytes.Buffer
	WriteDescribe(&b, e, now)
	golden(t, "describe.txt", b.Bytes())
}

const testDOT = "digraph \"genome\" {\n\t\"align\" -> \"call\";\n}\n"

func TestWriteGraph(t *testing.T) {
	var b bytes.Buffer
	if err := writeGraph(context.Background(), &b, graphJSON, []byte(`{"kind":"ExecutionGraph","level":"task","tasks":[{"name":"align","jobs":40}],"edges":[]}`)); err != nil {
		t.Fatal(err)
	}
	golden(t, "graph.json", b.Bytes())

	b.Reset()
	if err := writeGraph(context.Background(), &b, graphDOT, []byte(testDOT)); err != nil || b.String() != testDOT {
		t.Errorf("-o dot: %v, %q; want the server's DOT as it is", err, b.String())
	}
	if err := writeGraph(context.Background(), &b, graphJSON, []byte("not json")); err == nil {
		t.Error("-o json of a body that is not JSON: no error")
	}
}

func TestWriteGraphSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed: the SVG drawing is not checked here")
	}
	var b bytes.Buffer
	if err := writeGraph(context.Background(), &b, graphSVG, []byte(testDOT)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<svg") || !strings.Contains(b.String(), "align") {
		t.Errorf("-o svg: %.200s", b.String())
	}
}

func TestWriteGraphWithoutDot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var b bytes.Buffer
	err := writeGraph(context.Background(), &b, graphPNG, []byte(testDOT))
	if err == nil || !strings.Contains(err.Error(), "install Graphviz") || !strings.Contains(err.Error(), "-o dot") {
		t.Errorf("-o png without dot: %v; want how to install it", err)
	}
}

// Piped, watch prints a line for every change, a suspension or a new
// message included, and none for time passing alone.
func TestScreenLinesOnChange(t *testing.T) {
	var b bytes.Buffer
	scr := &screen{out: &b}
	e := genome()
	scr.show(Summarize(e), now)
	scr.show(Summarize(e), now.Add(time.Second))
	e.Spec.Suspend = ptr.To(true)
	scr.show(Summarize(e), now.Add(2*time.Second))
	e.Status.Message = "suspended: no new job starts"
	scr.show(Summarize(e), now.Add(3*time.Second))
	if n := strings.Count(b.String(), "\n"); n != 3 {
		t.Errorf("%d lines, want 3 (start, suspension, message):\n%s", n, b.String())
	}
}
