package execution

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/progress"
)

// RenderLimits bound what a read of an Execution computes, so that reading a
// 100,000-job Execution costs no more than reading a small one.
type RenderLimits struct {
	// MaxVertices is the most jobs for which status.vertices is rendered.
	MaxVertices int
	// MaxEdges is the most parent→child entries rendered in all vertices'
	// children together; a `whole` dependency between two large tasks has
	// the product of their sizes.
	MaxEdges int
	// MaxVerticesPerList is the most vertices rendered into one list
	// response, or into one event of a watch of many Executions; items
	// past it are served without status.vertices.
	MaxVerticesPerList int
	// CacheVertices is the most rendered vertices kept for reuse by later
	// reads of the same Execution at the same resourceVersion.
	CacheVertices int
}

// DefaultRenderLimits are the limits used unless the server is told otherwise.
func DefaultRenderLimits() RenderLimits {
	return RenderLimits{MaxVertices: 5000, MaxEdges: 50000, MaxVerticesPerList: 20000, CacheVertices: 100000}
}

// Reasons of a VerticesRendered=False condition.
const (
	reasonTooLarge        = "TooLarge"
	reasonOverListBudget  = "OverListBudget"
	verticesElsewhereHint = "GET the execution by name, or read its graph subresource (?level=task for a summary)"
)

// progressOf reads the compact stored status, by task name.
func progressOf(status *execution.ExecutionStatus) map[string]*progress.Task {
	out := make(map[string]*progress.Task, len(status.Tasks))
	for i := range status.Tasks {
		ts := &status.Tasks[i]
		p := progress.ParseTask(ts.Created, ts.Succeeded, ts.Failed)
		p.ParseRetrying(ts.Retrying)
		for _, m := range ts.Messages {
			p.SetMessage(int(m.Index), m.Message)
		}
		out[ts.Name] = &p
	}
	return out
}

// stripRendered removes what the server computes on read, so it is never
// stored.
func stripRendered(status *execution.ExecutionStatus) {
	status.Vertices = nil
	meta.RemoveStatusCondition(&status.Conditions, execution.ConditionVerticesRendered)
}

// render fills status.vertices of e from its spec and stored progress, as
// a GET does. e must be the caller's own copy: objects read from storage may
// be shared with the watch cache and other readers.
func render(e *execution.Execution, limits RenderLimits) {
	stripRendered(&e.Status)
	g, _ := execution.BuildGraph(e)
	if g == nil {
		// Stored specs were validated; nothing to render for one that is not.
		return
	}
	if !omitTooLarge(e, g, limits) {
		e.Status.Vertices = renderVertices(e, g)
	}
}

// omitTooLarge marks e as served without vertices if its graph is over
// limits, and reports whether it is.
func omitTooLarge(e *execution.Execution, g *dag.Graph, limits RenderLimits) bool {
	jobs, edges := g.TotalJobs(), g.NumEdges()
	if jobs <= limits.MaxVertices && edges <= int64(limits.MaxEdges) {
		return false
	}
	omitVertices(e, reasonTooLarge, fmt.Sprintf("status.vertices is omitted: the execution has %d jobs and %d dependency edges, more than the %d jobs or %d edges the server renders; read the graph subresource (?level=task for a summary)",
		jobs, edges, limits.MaxVertices, limits.MaxEdges))
	return true
}

// omitVertices says in e's conditions why its status.vertices is empty.
func omitVertices(e *execution.Execution, reason, message string) {
	// Conditions may be shared with the cache: build a new slice.
	e.Status.Conditions = slices.Clone(e.Status.Conditions)
	meta.SetStatusCondition(&e.Status.Conditions, metav1.Condition{
		Type:               execution.ConditionVerticesRendered,
		Status:             metav1.ConditionFalse,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: e.Generation,
		LastTransitionTime: e.CreationTimestamp,
	})
}

// renderVertices computes every job's vertex: its phase and message from
// the stored progress, its children from the graph.
func renderVertices(e *execution.Execution, g *dag.Graph) map[string]execution.Vertex {
	stored := progressOf(&e.Status)
	vertices := make(map[string]execution.Vertex, g.TotalJobs())
	for t := 0; t < g.NumTasks(); t++ {
		p := stored[g.TaskName(t)]
		for i := 0; i < g.Jobs(t); i++ {
			name := g.JobName(t, i)
			v := execution.Vertex{ID: name, Name: name, Phase: execution.ExecutionPhase(p.JobPhase(i)), Message: p.JobMessage(i)}
			if n := g.NumChildren(t, i); n > 0 {
				v.Children = make([]string, 0, n)
				g.Children(t, i, func(ct, ci int) bool {
					v.Children = append(v.Children, g.JobName(ct, ci))
					return true
				})
			}
			vertices[name] = v
		}
	}
	return vertices
}

// progressSummary counts succeeded and total jobs, for the table.
func progressSummary(e *execution.Execution) (succeeded, total int) {
	for _, t := range execution.GraphTasks(&e.Spec) {
		total += t.Jobs
	}
	for _, p := range progressOf(&e.Status) {
		succeeded += p.Succeeded.Count()
	}
	return succeeded, total
}
