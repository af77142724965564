package controller

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	batchv1 "k8s.io/api/batch/v1"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/indexset"
)

// buildGraph builds the Execution's graph with pkg/dag through the internal
// types' description of it: the wire and internal specs share one memory
// layout, so the conversion copies nothing.
func buildGraph(e *v1alpha1.Execution) (*dag.Graph, error) {
	var spec execution.ExecutionSpec
	if err := v1alpha1.Convert_v1alpha1_ExecutionSpec_To_execution_ExecutionSpec(&e.Spec, &spec, nil); err != nil {
		return nil, fmt.Errorf("converting the spec: %w", err)
	}
	g, problems := dag.Build(e.Name, execution.GraphTasks(&spec))
	if g == nil {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Message
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return g, nil
}

// rebuild fills a new state from the Execution's Jobs (from the cache) and
// its stored status, after a restart or when the controller first sees the
// Execution. The Jobs are the truth where they exist; stored succeeded and
// failed sets stand for Jobs that are gone. It reports the jobs found
// failed that the stored status did not know yet, for events.
func (s *executionState) rebuild(e *v1alpha1.Execution, jobs []*batchv1.Job) (newlyFailed []string) {
	s.startedAt = e.Status.StartedAt.DeepCopy()
	s.finishedAt = e.Status.FinishedAt.DeepCopy()
	g, err := buildGraph(e)
	if err != nil {
		s.failure = "invalid execution spec: " + err.Error()
		return nil
	}
	s.graph = g
	s.tasks = make([]taskState, g.NumTasks())
	stored := make(map[int]*storedTask, len(e.Status.Tasks))
	for i := range e.Status.Tasks {
		if t, ok := g.TaskIndex(e.Status.Tasks[i].Name); ok {
			stored[t] = parseStoredTask(&e.Status.Tasks[i])
		}
	}

	type found struct {
		task, index int
		job         *batchv1.Job
	}
	var owned []found
	for _, job := range jobs {
		if controllerUID(job) != s.uid {
			continue
		}
		if t, i, ok := g.ParseJobName(job.Name); ok {
			owned = append(owned, found{t, i, job})
		}
	}
	// Spec order, so that the first failure named is deterministic.
	slices.SortFunc(owned, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.index, b.index))
	})
	present := make([]indexset.Set, len(s.tasks))
	for _, f := range owned {
		present[f.task].Add(f.index)
		switch outcome, reason, message := outcomeOf(f.job); outcome {
		case jobActive:
			s.markCreated(f.task, f.index)
		case jobSucceeded:
			s.markSucceeded(f.task, f.index)
		case jobFailed:
			s.markFailed(f.task, f.index, jobFailureMessages(f.job.Name, reason, message))
			if st := stored[f.task]; st == nil || !st.failed.Has(f.index) {
				newlyFailed = append(newlyFailed, f.job.Name)
			}
		}
	}

	for t := range s.tasks {
		st := stored[t]
		if st == nil {
			continue
		}
		gone := func(set indexset.Set, fn func(i int)) {
			set.Each(func(i int) bool {
				if i < g.Jobs(t) && !present[t].Has(i) {
					fn(i)
				}
				return true
			})
		}
		gone(st.succeeded, func(i int) { s.markSucceeded(t, i) })
		gone(st.failed, func(i int) {
			m := st.messages[i]
			if m == "" {
				m = messageJobFailed
			}
			s.markFailed(t, i, failureMessages{vertex: m, execution: fmt.Sprintf("job %s failed: %s", g.JobName(t, i), m)})
		})
		// Created, unfinished, and now gone: deleted by someone. Running it
		// again could run a command twice, so the vertex fails instead.
		gone(st.created, func(i int) {
			if !s.tasks[t].finished(i) {
				s.markFailed(t, i, deletedMessages(g.JobName(t, i)))
			}
		})
	}

	// The only full scan: which unstarted jobs are ready now.
	for t := range s.tasks {
		for i := 0; i < g.Jobs(t); i++ {
			if !s.tasks[t].created.Has(i) && g.Ready(s, t, i) {
				s.pushReady(t, readyJob{index: i})
			}
		}
	}
	return newlyFailed
}

// storedTask is a task's stored status, parsed.
type storedTask struct {
	created, succeeded, failed indexset.Set
	messages                   map[int]string
}

func parseStoredTask(ts *v1alpha1.TaskStatus) *storedTask {
	st := &storedTask{messages: make(map[int]string, len(ts.Messages))}
	// Stored sets were validated when written; one that does not parse
	// counts as empty rather than stopping the Execution.
	st.created, _ = indexset.Parse(ts.Created)
	st.succeeded, _ = indexset.Parse(ts.Succeeded)
	st.failed, _ = indexset.Parse(ts.Failed)
	for _, m := range ts.Messages {
		st.messages[int(m.Index)] = m.Message
	}
	return st
}
