package execution

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution"
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
}

// DefaultRenderLimits are the limits used unless the server is told otherwise.
func DefaultRenderLimits() RenderLimits {
	return RenderLimits{MaxVertices: 5000, MaxEdges: 50000}
}

// progressOf reads the compact stored status, by task name.
func progressOf(status *execution.ExecutionStatus) map[string]*progress.Task {
	out := make(map[string]*progress.Task, len(status.Tasks))
	for i := range status.Tasks {
		ts := &status.Tasks[i]
		p := progress.ParseTask(ts.Created, ts.Succeeded, ts.Failed)
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

// render fills status.vertices of e from its spec and stored progress. e
// must be the caller's own copy: objects read from storage may be shared
// with the watch cache and other readers.
func render(e *execution.Execution, limits RenderLimits) {
	stripRendered(&e.Status)
	g, _ := execution.BuildGraph(e)
	if g == nil {
		// Stored specs were validated; nothing to render for one that is not.
		return
	}
	if jobs, edges := g.TotalJobs(), g.NumEdges(); jobs > limits.MaxVertices || edges > int64(limits.MaxEdges) {
		// Conditions may be shared with the cache: build a new slice.
		e.Status.Conditions = slices.Clone(e.Status.Conditions)
		meta.SetStatusCondition(&e.Status.Conditions, metav1.Condition{
			Type:   execution.ConditionVerticesRendered,
			Status: metav1.ConditionFalse,
			Reason: "TooLarge",
			Message: fmt.Sprintf("status.vertices is omitted: the execution has %d jobs and %d dependency edges, more than the %d jobs or %d edges the server renders; read the graph subresource (?level=task for a summary)",
				jobs, edges, limits.MaxVertices, limits.MaxEdges),
			ObservedGeneration: e.Generation,
			LastTransitionTime: e.CreationTimestamp,
		})
		return
	}
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
	e.Status.Vertices = vertices
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
