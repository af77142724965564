package execution

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"kubegene.io/kubegene/apis/execution"
)

func graphWriterFor(t *testing.T, name string) graphWriter {
	t.Helper()
	e := loadExample(t, name)
	e.Status.Tasks = []execution.TaskStatus{{Name: "a", Created: "0-1", Succeeded: "0"}}
	g, problems := execution.BuildGraph(e)
	if g == nil {
		t.Fatalf("example %s is invalid: %v", name, problems)
	}
	return graphWriter{g: g, e: e, progress: progressOf(&e.Status)}
}

func TestGraphJobJSON(t *testing.T) {
	for name, wantEdges := range map[string][]GraphEdge{
		"exec-whole": {
			{From: "exec-whole.a.0", To: "exec-whole.b.0", Type: "whole"},
			{From: "exec-whole.a.0", To: "exec-whole.b.1", Type: "whole"},
			{From: "exec-whole.a.1", To: "exec-whole.b.0", Type: "whole"},
			{From: "exec-whole.a.1", To: "exec-whole.b.1", Type: "whole"},
		},
		"exec-iterate": {
			{From: "exec-iterate.a.0", To: "exec-iterate.b.0", Type: "iterate"},
			{From: "exec-iterate.a.1", To: "exec-iterate.b.1", Type: "iterate"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			graphWriterFor(t, name).jobJSON(&buf)
			var got struct {
				Kind     string `json:"kind"`
				Level    string `json:"level"`
				Metadata struct{ Name string }
				Vertices []GraphVertex `json:"vertices"`
				Edges    []GraphEdge   `json:"edges"`
			}
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, buf.String())
			}
			if got.Kind != "ExecutionGraph" || got.Level != "job" || got.Metadata.Name != name {
				t.Errorf("header: %+v", got)
			}
			wantVertices := []GraphVertex{
				{Name: name + ".a.0", Task: "a", Index: 0, Phase: execution.PhaseSucceeded},
				{Name: name + ".a.1", Task: "a", Index: 1, Phase: execution.PhaseRunning},
				{Name: name + ".b.0", Task: "b", Index: 0, Phase: execution.PhasePending},
				{Name: name + ".b.1", Task: "b", Index: 1, Phase: execution.PhasePending},
			}
			if !reflect.DeepEqual(got.Vertices, wantVertices) {
				t.Errorf("vertices:\n got %+v\nwant %+v", got.Vertices, wantVertices)
			}
			if !reflect.DeepEqual(got.Edges, wantEdges) {
				t.Errorf("edges:\n got %+v\nwant %+v", got.Edges, wantEdges)
			}
		})
	}
}

func TestGraphTaskJSON(t *testing.T) {
	var buf bytes.Buffer
	graphWriterFor(t, "exec-whole").taskJSON(&buf)
	var got struct {
		Level string      `json:"level"`
		Tasks []GraphTask `json:"tasks"`
		Edges []GraphEdge `json:"edges"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	wantTasks := []GraphTask{
		{Name: "a", Jobs: 2, Running: 1, Succeeded: 1, Phase: execution.PhaseRunning},
		{Name: "b", Jobs: 2, Pending: 2, Phase: execution.PhasePending},
	}
	if got.Level != "task" || !reflect.DeepEqual(got.Tasks, wantTasks) {
		t.Errorf("tasks: got %s %+v, want %+v", got.Level, got.Tasks, wantTasks)
	}
	if want := []GraphEdge{{From: "a", To: "b", Type: "whole"}}; !reflect.DeepEqual(got.Edges, want) {
		t.Errorf("edges: got %+v, want %+v", got.Edges, want)
	}
}

func TestGraphDOT(t *testing.T) {
	var job, task bytes.Buffer
	gw := graphWriterFor(t, "exec-iterate")
	gw.jobDOT(&job)
	gw.taskDOT(&task)
	for _, want := range []string{
		`digraph "exec-iterate" {`,
		`"exec-iterate.a.0" [label="exec-iterate.a.0\nSucceeded", color=green];`,
		`"exec-iterate.b.1" [label="exec-iterate.b.1\nPending", color=gray];`,
		`"exec-iterate.a.0" -> "exec-iterate.b.0";`,
		`"exec-iterate.a.1" -> "exec-iterate.b.1";`,
	} {
		if !strings.Contains(job.String(), want) {
			t.Errorf("job-level DOT lacks %q:\n%s", want, job.String())
		}
	}
	if strings.Contains(job.String(), `"exec-iterate.a.0" -> "exec-iterate.b.1"`) {
		t.Errorf("iterate graph has a cross edge:\n%s", job.String())
	}
	if want := `"a" -> "b" [label="iterate"];`; !strings.Contains(task.String(), want) || !strings.HasSuffix(task.String(), "}\n") {
		t.Errorf("task-level DOT lacks %q or its end:\n%s", want, task.String())
	}
}
