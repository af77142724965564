package execution

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/indexset"
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

// Vertex messages, as users of the original kube-dag know them.
const (
	vertexSucceededMessage = "success"
	vertexFailedMessage    = "failed"
)

// taskProgress is the parsed, stored state of one task's jobs.
type taskProgress struct {
	created, succeeded, failed indexset.Set
	messages                   map[int]string
}

// parseProgress reads the compact stored status. Sets that do not parse are
// treated as empty: status writes are validated, so this only guards reads of
// data written by an older server against a panic.
func parseProgress(status *execution.ExecutionStatus) map[string]*taskProgress {
	out := make(map[string]*taskProgress, len(status.Tasks))
	for i := range status.Tasks {
		ts := &status.Tasks[i]
		p := &taskProgress{}
		p.created, _ = indexset.Parse(ts.Created)
		p.succeeded, _ = indexset.Parse(ts.Succeeded)
		p.failed, _ = indexset.Parse(ts.Failed)
		if len(ts.Messages) > 0 {
			p.messages = make(map[int]string, len(ts.Messages))
			for _, m := range ts.Messages {
				p.messages[int(m.Index)] = m.Message
			}
		}
		out[ts.Name] = p
	}
	return out
}

// phase is the phase of job index of a task with this progress.
func (p *taskProgress) phase(index int) execution.ExecutionPhase {
	switch {
	case p == nil:
		return execution.PhasePending
	case p.succeeded.Has(index):
		return execution.PhaseSucceeded
	case p.failed.Has(index):
		return execution.PhaseFailed
	case p.created.Has(index):
		return execution.PhaseRunning
	}
	return execution.PhasePending
}

func (p *taskProgress) message(index int) string {
	switch p.phase(index) {
	case execution.PhaseSucceeded:
		return vertexSucceededMessage
	case execution.PhaseFailed:
		if m, ok := p.messages[index]; ok && m != "" {
			return m
		}
		return vertexFailedMessage
	}
	return ""
}

// edgeCount is the number of job-level parent→child pairs of the graph,
// computed from task-level edges without enumerating them.
func edgeCount(g *dag.Graph) int64 {
	var n int64
	for t := 0; t < g.NumTasks(); t++ {
		for _, e := range g.Dependents(t) {
			if e.Type == dag.Whole {
				n += int64(g.Jobs(t)) * int64(g.Jobs(e.Task))
			} else {
				n += int64(g.Jobs(t))
			}
		}
	}
	return n
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
	if jobs, edges := g.TotalJobs(), edgeCount(g); jobs > limits.MaxVertices || edges > int64(limits.MaxEdges) {
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
	progress := parseProgress(&e.Status)
	vertices := make(map[string]execution.Vertex, g.TotalJobs())
	for t := 0; t < g.NumTasks(); t++ {
		p := progress[g.TaskName(t)]
		for i := 0; i < g.Jobs(t); i++ {
			name := g.JobName(t, i)
			v := execution.Vertex{ID: name, Name: name, Phase: p.phase(i), Message: p.message(i)}
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
	for _, t := range e.Spec.Tasks {
		total += len(t.Commands)
	}
	for _, p := range parseProgress(&e.Status) {
		succeeded += p.succeeded.Count()
	}
	return succeeded, total
}
