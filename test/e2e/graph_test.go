package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
)

const execWholeGraph = "/apis/execution.kubegene.io/v1alpha1/namespaces/default/executions/exec-whole/graph"

type graphJSON struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Level    string `json:"level"`
	Vertices []struct {
		Name  string `json:"name"`
		Task  string `json:"task"`
		Index int    `json:"index"`
		Phase string `json:"phase"`
	} `json:"vertices"`
	Tasks []struct {
		Name string `json:"name"`
		Jobs int    `json:"jobs"`
	} `json:"tasks"`
	Edges []struct {
		From string `json:"from"`
		To   string `json:"to"`
		Type string `json:"type"`
	} `json:"edges"`
}

func edgeStrings(g *graphJSON) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, e.From+"->"+e.To+":"+e.Type)
	}
	slices.Sort(out)
	return out
}

// TestGraphSubresource: executions/NAME/graph through the aggregator as JSON
// (job level), DOT, and the task-level view.
func TestGraphSubresource(t *testing.T) {
	f := framework.New(t)
	f.ApplyExample("exec-whole")

	t.Run("json", func(t *testing.T) {
		out := f.Kubectl.For(t).MustRun("get", "--raw", execWholeGraph).Stdout
		g := &graphJSON{}
		if err := json.Unmarshal([]byte(out), g); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if g.Kind != "ExecutionGraph" || g.Level != "job" || g.Metadata.Name != "exec-whole" || g.Metadata.Namespace != "default" {
			t.Errorf("kind %q level %q metadata %+v", g.Kind, g.Level, g.Metadata)
		}
		var names []string
		for _, v := range g.Vertices {
			names = append(names, v.Name)
			if v.Name != "exec-whole."+v.Task+"."+string(rune('0'+v.Index)) {
				t.Errorf("vertex %+v: name does not match task and index", v)
			}
			if !slices.Contains([]string{"Pending", "Running", "Succeeded"}, v.Phase) {
				t.Errorf("vertex %s phase %q", v.Name, v.Phase)
			}
		}
		slices.Sort(names)
		if want := seedJobs("exec-whole"); !slices.Equal(names, want) {
			t.Errorf("vertices %v, want %v", names, want)
		}
		// Every edge of exec-whole is of type whole.
		var want []string
		for _, e := range seedEdges("exec-whole") {
			want = append(want, e+":whole")
		}
		if got := edgeStrings(g); !slices.Equal(got, want) {
			t.Errorf("edges %v, want %v", got, want)
		}
	})

	t.Run("dot", func(t *testing.T) {
		out := f.Kubectl.For(t).MustRun("get", "--raw", execWholeGraph+"?format=dot").Stdout
		if !strings.HasPrefix(out, `digraph "exec-whole" {`) || !strings.HasSuffix(strings.TrimSpace(out), "}") {
			t.Errorf("not a DOT digraph:\n%s", out)
		}
		edges := seedEdges("exec-whole")
		for _, e := range edges {
			parent, child, _ := strings.Cut(e, "->")
			if want := `"` + parent + `" -> "` + child + `";`; !strings.Contains(out, want) {
				t.Errorf("DOT has no edge %s:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "->"); n != len(edges) {
			t.Errorf("%d edges in DOT, want %d:\n%s", n, len(edges), out)
		}
	})

	t.Run("task level", func(t *testing.T) {
		out := f.Kubectl.For(t).MustRun("get", "--raw", execWholeGraph+"?level=task").Stdout
		g := &graphJSON{}
		if err := json.Unmarshal([]byte(out), g); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if g.Level != "task" || len(g.Vertices) != 0 {
			t.Errorf("level %q with %d job vertices, want level task and none", g.Level, len(g.Vertices))
		}
		if len(g.Tasks) != 2 || g.Tasks[0].Name != "a" || g.Tasks[0].Jobs != 2 || g.Tasks[1].Name != "b" || g.Tasks[1].Jobs != 2 {
			t.Errorf("tasks %+v, want a and b with 2 jobs each", g.Tasks)
		}
		if got, want := edgeStrings(g), []string{"a->b:whole"}; !slices.Equal(got, want) {
			t.Errorf("edges %v, want %v", got, want)
		}

		dot := f.Kubectl.For(t).MustRun("get", "--raw", execWholeGraph+"?level=task&format=dot").Stdout
		if !strings.HasPrefix(dot, "digraph ") || !strings.Contains(dot, `"a" -> "b"`) {
			t.Errorf("task-level DOT:\n%s", dot)
		}
	})

	t.Run("bad query", func(t *testing.T) {
		r := f.Kubectl.For(t).MustFail("get", "--raw", execWholeGraph+"?format=svg")
		if !strings.Contains(r.Stderr, "BadRequest") && !strings.Contains(r.Stderr, "unsupported graph format") {
			t.Errorf("stderr: %s", r.Stderr)
		}
	})
}
