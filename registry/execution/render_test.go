package execution

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/install"
	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/test/seed"
)

var (
	testScheme = func() *runtime.Scheme {
		s := runtime.NewScheme()
		install.Install(s)
		return s
	}()
	testCodecs = serializer.NewCodecFactory(testScheme)
)

// loadExample decodes one of the seed's Executions from artifacts/examples
// into the internal type, defaulted as the server does.
func loadExample(t testing.TB, name string) *execution.Execution {
	t.Helper()
	data, err := seed.Read(name)
	if err != nil {
		t.Fatal(err)
	}
	obj, _, err := testCodecs.UniversalDecoder(execution.SchemeGroupVersion).Decode(data, nil, nil)
	if err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return obj.(*execution.Execution)
}

// toWireMap renders e's vertices the way a client receives them: converted to
// v1alpha1 and encoded as JSON.
func wireVertices(t *testing.T, e *execution.Execution) map[string]interface{} {
	t.Helper()
	out := &v1alpha1.Execution{}
	if err := testScheme.Convert(e, out, nil); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]interface{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	status, _ := m["status"].(map[string]interface{})
	vertices, _ := status["vertices"].(map[string]interface{})
	return vertices
}

// seedVertices reads status.vertices as the seed document prints them.
func seedVertices(t *testing.T, name string) map[string]interface{} {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+"-status.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Status struct {
			Vertices map[string]interface{} `json:"vertices"`
		} `json:"status"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Status.Vertices
}

func succeededEverywhere(e *execution.Execution) {
	e.Status = execution.ExecutionStatus{Phase: execution.PhaseSucceeded, Message: "execution has run successfully"}
	for _, task := range e.Spec.Tasks {
		e.Status.Tasks = append(e.Status.Tasks, execution.TaskStatus{Name: task.Name, Created: "0-1", Succeeded: "0-1"})
	}
}

func TestRenderSeedVertices(t *testing.T) {
	for _, name := range []string{"exec-whole", "exec-iterate"} {
		t.Run(name, func(t *testing.T) {
			e := loadExample(t, name)
			succeededEverywhere(e)
			render(e, DefaultRenderLimits())

			want := seedVertices(t, name)
			if len(want) != 4 {
				t.Fatalf("seed has %d vertices for %s, want 4", len(want), name)
			}
			for id, v := range want {
				// The seed prints exec-iterate.a.1 with name "exec-whole.a.1",
				// a copy-paste slip in the document: a vertex's name is its id.
				v.(map[string]interface{})["name"] = id
			}
			got := wireVertices(t, e)
			if !reflect.DeepEqual(got, want) {
				gotYAML, _ := yaml.Marshal(got)
				wantYAML, _ := yaml.Marshal(want)
				t.Fatalf("vertices differ from the seed\ngot:\n%s\nwant:\n%s", gotYAML, wantYAML)
			}
		})
	}
}

func TestRenderPhases(t *testing.T) {
	e := loadExample(t, "exec-whole")
	e.Status = execution.ExecutionStatus{
		Phase: execution.PhaseFailed,
		Tasks: []execution.TaskStatus{{
			Name: "a", Created: "0-1", Succeeded: "0", Failed: "1",
			Messages: []execution.JobMessage{{Index: 1, Message: "BackoffLimitExceeded: Job has reached the specified backoff limit"}},
		}},
	}
	render(e, DefaultRenderLimits())
	want := map[string]struct {
		phase   execution.ExecutionPhase
		message string
	}{
		"exec-whole.a.0": {execution.PhaseSucceeded, "success"},
		"exec-whole.a.1": {execution.PhaseFailed, "BackoffLimitExceeded: Job has reached the specified backoff limit"},
		"exec-whole.b.0": {execution.PhasePending, ""},
		"exec-whole.b.1": {execution.PhasePending, ""},
	}
	if len(e.Status.Vertices) != len(want) {
		t.Fatalf("got %d vertices, want %d", len(e.Status.Vertices), len(want))
	}
	for name, w := range want {
		v := e.Status.Vertices[name]
		if v.Phase != w.phase || v.Message != w.message {
			t.Errorf("%s: phase %q message %q, want %q %q", name, v.Phase, v.Message, w.phase, w.message)
		}
	}

	e.Status.Tasks[0].Failed = ""
	render(e, DefaultRenderLimits())
	if got := e.Status.Vertices["exec-whole.a.1"].Phase; got != execution.PhaseRunning {
		t.Errorf("created, unfinished job: phase %q, want Running", got)
	}
}

func TestRenderOmitsVerticesAboveLimits(t *testing.T) {
	e := loadExample(t, "exec-whole")
	for _, limits := range []RenderLimits{{MaxVertices: 3, MaxEdges: 100}, {MaxVertices: 100, MaxEdges: 3}} {
		c := e.DeepCopy()
		render(c, limits)
		if c.Status.Vertices != nil {
			t.Errorf("limits %+v: vertices rendered for 4 jobs and 4 edges", limits)
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, execution.ConditionVerticesRendered)
		if cond == nil || cond.Status != metav1.ConditionFalse || !strings.Contains(cond.Message, "graph subresource") {
			t.Errorf("limits %+v: condition %+v, want VerticesRendered=False pointing to the graph", limits, cond)
		}
		// A later render within limits clears the condition again.
		render(c, DefaultRenderLimits())
		if len(c.Status.Vertices) != 4 || meta.FindStatusCondition(c.Status.Conditions, execution.ConditionVerticesRendered) != nil {
			t.Errorf("re-render within limits: %d vertices, conditions %+v", len(c.Status.Vertices), c.Status.Conditions)
		}
	}
}

func TestRendererNeverMutatesItsInput(t *testing.T) {
	e := loadExample(t, "exec-whole")
	succeededEverywhere(e)
	r := newRenderer(DefaultRenderLimits())
	before := e.DeepCopy()
	out := r.object(readOne, e).(*execution.Execution)
	if !reflect.DeepEqual(e, before) {
		t.Fatal("render mutated the stored object")
	}
	if len(out.Status.Vertices) != 4 {
		t.Fatalf("rendered %d vertices, want 4", len(out.Status.Vertices))
	}
	list := &execution.ExecutionList{Items: []execution.Execution{*e}}
	renderedList := r.object(readMany, list).(*execution.ExecutionList)
	if list.Items[0].Status.Vertices != nil || len(renderedList.Items[0].Status.Vertices) != 4 {
		t.Fatal("list rendering must fill a copy and leave the input alone")
	}
}

func TestEdgeCount(t *testing.T) {
	for name, want := range map[string]int64{"exec-whole": 4, "exec-iterate": 2} {
		g, _ := execution.BuildGraph(loadExample(t, name))
		if got := g.NumEdges(); got != want {
			t.Errorf("%s: %d edges, want %d", name, got, want)
		}
	}
}
