package execution

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/progress"
)

// GraphLimits bound what one read of the graph subresource writes.
type GraphLimits struct {
	// MaxJobEdges is the most job-level edges served by ?level=job; larger
	// graphs are served by ?level=task.
	MaxJobEdges int64
}

// DefaultGraphLimits are the limits used unless the server is told otherwise.
func DefaultGraphLimits() GraphLimits {
	return GraphLimits{MaxJobEdges: 1_000_000}
}

// Graph formats and levels accepted in the query of executions/NAME/graph.
const (
	GraphFormatJSON = "json"
	GraphFormatDOT  = "dot"
	GraphLevelJob   = "job"
	GraphLevelTask  = "task"

	dotContentType = "text/vnd.graphviz"
)

// GraphREST serves executions/NAME/graph: the dependency graph with each
// job's phase, as JSON or Graphviz DOT, per job or per task.
type GraphREST struct {
	store  *genericregistry.Store
	limits GraphLimits
}

var _ rest.Connecter = &GraphREST{}

// New returns an Execution, the object the subresource belongs to.
func (r *GraphREST) New() runtime.Object { return &execution.Execution{} }

// Destroy cleans up resources on shutdown; the main store owns them.
func (r *GraphREST) Destroy() {}

// ConnectMethods lists the HTTP methods the graph answers.
func (r *GraphREST) ConnectMethods() []string { return []string{http.MethodGet} }

// NewConnectOptions returns nil: the handler reads format and level from the
// query itself.
func (r *GraphREST) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// Connect reads the Execution and returns a handler that writes its graph.
func (r *GraphREST) Connect(ctx context.Context, name string, _ runtime.Object, _ rest.Responder) (http.Handler, error) {
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	e := obj.(*execution.Execution)
	g, _ := execution.BuildGraph(e)
	if g == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("stored execution %s/%s has an invalid graph", e.Namespace, e.Name))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		format, level := q.Get("format"), q.Get("level")
		if format == "" {
			format = GraphFormatJSON
		}
		if level == "" {
			level = GraphLevelJob
		}
		if format != GraphFormatJSON && format != GraphFormatDOT {
			writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("unsupported graph format %q: use %q or %q", format, GraphFormatJSON, GraphFormatDOT)))
			return
		}
		if level != GraphLevelJob && level != GraphLevelTask {
			writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("unsupported graph level %q: use %q or %q", level, GraphLevelJob, GraphLevelTask)))
			return
		}
		if level == GraphLevelJob {
			if n := g.NumEdges(); n > r.limits.MaxJobEdges {
				writeStatus(w, apierrors.NewBadRequest(fmt.Sprintf("the execution has %d job-level edges, more than the %d served per job: use ?level=task", n, r.limits.MaxJobEdges)))
				return
			}
		}
		gw := graphWriter{g: g, e: e, progress: progressOf(&e.Status)}
		if format == GraphFormatDOT {
			w.Header().Set("Content-Type", dotContentType)
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(http.StatusOK)
		bw := bufio.NewWriterSize(w, 64*1024)
		switch {
		case format == GraphFormatJSON && level == GraphLevelJob:
			gw.jobJSON(bw)
		case format == GraphFormatJSON:
			gw.taskJSON(bw)
		case level == GraphLevelJob:
			gw.jobDOT(bw)
		default:
			gw.taskDOT(bw)
		}
		// The status line is sent; a write error means the client went away.
		_ = bw.Flush()
	}), nil
}

// writeStatus answers with a Kubernetes Status error, as clients expect from
// any API path.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	status := err.Status()
	status.Kind, status.APIVersion = "Status", "v1"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(status.Code))
	_ = json.NewEncoder(w).Encode(status)
}

// GraphVertex is one job of a job-level graph.
type GraphVertex struct {
	Name  string                   `json:"name"`
	Task  string                   `json:"task"`
	Index int                      `json:"index"`
	Phase execution.ExecutionPhase `json:"phase"`
}

// GraphEdge says that job (or task) To waits for From.
type GraphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Type string `json:"type,omitempty"`
}

// GraphTask is one task of a task-level graph, with its jobs' progress.
type GraphTask struct {
	Name      string                   `json:"name"`
	Jobs      int                      `json:"jobs"`
	Pending   int                      `json:"pending"`
	Running   int                      `json:"running"`
	Succeeded int                      `json:"succeeded"`
	Failed    int                      `json:"failed"`
	Phase     execution.ExecutionPhase `json:"phase"`
}

// graphWriter streams a graph: job-level edges of a whole dependency are
// written one by one, never held in memory as a list.
type graphWriter struct {
	g        *dag.Graph
	e        *execution.Execution
	progress map[string]*progress.Task
}

func (gw graphWriter) header(w io.Writer, level string) {
	fmt.Fprintf(w, `{"kind":"ExecutionGraph","apiVersion":"execution.kubegene.io/v1alpha1","metadata":{"name":%s,"namespace":%s},"level":%q,`,
		quote(gw.e.Name), quote(gw.e.Namespace), level)
}

func (gw graphWriter) jobJSON(w io.Writer) {
	g := gw.g
	gw.header(w, GraphLevelJob)
	io.WriteString(w, `"vertices":[`)
	sep := ""
	for t := 0; t < g.NumTasks(); t++ {
		p := gw.progress[g.TaskName(t)]
		for i := 0; i < g.Jobs(t); i++ {
			b, _ := json.Marshal(GraphVertex{Name: g.JobName(t, i), Task: g.TaskName(t), Index: i, Phase: execution.ExecutionPhase(p.JobPhase(i))})
			io.WriteString(w, sep)
			w.Write(b)
			sep = ","
		}
	}
	io.WriteString(w, `],"edges":[`)
	sep = ""
	g.EachEdge(func(e dag.JobEdge) bool {
		fmt.Fprintf(w, `%s{"from":%s,"to":%s,"type":%q}`, sep, quote(g.JobName(e.From, e.FromIndex)), quote(g.JobName(e.To, e.ToIndex)), e.Type)
		sep = ","
		return true
	})
	io.WriteString(w, "]}\n")
}

func (gw graphWriter) tasks() []GraphTask {
	g := gw.g
	out := make([]GraphTask, g.NumTasks())
	for t := range out {
		c := gw.progress[g.TaskName(t)].Counts(g.Jobs(t))
		out[t] = GraphTask{Name: g.TaskName(t), Jobs: c.Jobs, Pending: c.Pending(), Running: c.Running,
			Succeeded: c.Succeeded, Failed: c.Failed, Phase: execution.ExecutionPhase(c.Phase())}
	}
	return out
}

func (gw graphWriter) taskEdges() []GraphEdge {
	var edges []GraphEdge
	for t := 0; t < gw.g.NumTasks(); t++ {
		for _, e := range gw.g.Downstream(t) {
			edges = append(edges, GraphEdge{From: gw.g.TaskName(t), To: gw.g.TaskName(e.Task), Type: string(e.Type)})
		}
	}
	return edges
}

func (gw graphWriter) taskJSON(w io.Writer) {
	gw.header(w, GraphLevelTask)
	body, _ := json.Marshal(struct {
		Tasks []GraphTask `json:"tasks"`
		Edges []GraphEdge `json:"edges"`
	}{gw.tasks(), gw.taskEdges()})
	// Splice the body's fields into the object the header opened.
	w.Write(body[1:])
	io.WriteString(w, "\n")
}

// dotColors shows phases the way users read them at a glance.
var dotColors = map[execution.ExecutionPhase]string{
	execution.PhasePending:   "gray",
	execution.PhaseRunning:   "blue",
	execution.PhaseSucceeded: "green",
	execution.PhaseFailed:    "red",
}

func (gw graphWriter) jobDOT(w io.Writer) {
	g := gw.g
	fmt.Fprintf(w, "digraph %s {\n\trankdir=TB;\n\tnode [shape=box, style=rounded];\n", quote(gw.e.Name))
	for t := 0; t < g.NumTasks(); t++ {
		p := gw.progress[g.TaskName(t)]
		for i := 0; i < g.Jobs(t); i++ {
			phase := execution.ExecutionPhase(p.JobPhase(i))
			fmt.Fprintf(w, "\t%s [label=%s, color=%s];\n", quote(g.JobName(t, i)), quote(g.JobName(t, i)+"\n"+string(phase)), dotColors[phase])
		}
	}
	g.EachEdge(func(e dag.JobEdge) bool {
		fmt.Fprintf(w, "\t%s -> %s;\n", quote(g.JobName(e.From, e.FromIndex)), quote(g.JobName(e.To, e.ToIndex)))
		return true
	})
	io.WriteString(w, "}\n")
}

func (gw graphWriter) taskDOT(w io.Writer) {
	fmt.Fprintf(w, "digraph %s {\n\trankdir=TB;\n\tnode [shape=box, style=rounded];\n", quote(gw.e.Name))
	for _, t := range gw.tasks() {
		label := fmt.Sprintf("%s\n%d/%d succeeded", t.Name, t.Succeeded, t.Jobs)
		fmt.Fprintf(w, "\t%s [label=%s, color=%s];\n", quote(t.Name), quote(label), dotColors[t.Phase])
	}
	for _, e := range gw.taskEdges() {
		fmt.Fprintf(w, "\t%s -> %s [label=%s];\n", quote(e.From), quote(e.To), quote(e.Type))
	}
	io.WriteString(w, "}\n")
}

// quote quotes a name for JSON and DOT alike; names are DNS labels, so Go
// quoting and JSON quoting agree.
func quote(s string) string { return strconv.Quote(s) }
