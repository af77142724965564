package controller

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/indexset"
	"kubegene.io/kubegene/pkg/progress"
)

// buildGraph builds the Execution's graph with pkg/dag.
func buildGraph(e *v1alpha1.Execution) (*dag.Graph, error) {
	g, problems := v1alpha1.BuildGraph(e)
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
// Execution. The Jobs are the truth where they exist; stored outcomes stand
// for Jobs that are gone. Failures the stored status did not know yet are
// left for takeFailures, to be reported.
func (s *executionState) rebuild(e *v1alpha1.Execution, jobs []*cachedJob) {
	s.startedAt = e.Status.StartedAt.DeepCopy()
	s.finishedAt = e.Status.FinishedAt.DeepCopy()
	s.policy = e.Spec.FailurePolicy
	s.attempts = e.Status.Attempts
	g, err := buildGraph(e)
	if err != nil {
		s.failure = "invalid execution spec: " + err.Error()
		return
	}
	s.graph = g
	s.tasks = make([]taskState, g.NumTasks())
	s.cleanup = newJobCleanup(e, g.NumTasks())
	s.eviction = newSuccessEviction(e, g.NumTasks())

	stored := storedProgress(e, g)
	for t, st := range stored {
		if st != nil {
			s.tasks[t].Retrying = st.Retrying.Clone()
			s.tasks[t].Rerun = st.Retrying.Clone()
		}
	}
	present := s.recordJobs(jobs)
	s.recordGoneJobs(stored, present)
	s.unreported = slices.DeleteFunc(s.unreported, func(f failedJob) bool {
		return stored[f.task].JobPhase(f.index) == progress.Failed
	})
	s.queueReady()
}

// storedProgress parses the stored status by task index; tasks the spec
// does not have are ignored.
func storedProgress(e *v1alpha1.Execution, g *dag.Graph) []*progress.Task {
	stored := make([]*progress.Task, g.NumTasks())
	for i := range e.Status.Tasks {
		ts := &e.Status.Tasks[i]
		t, ok := g.TaskIndex(ts.Name)
		if !ok {
			continue
		}
		p := progress.ParseTask(ts.Created, ts.Succeeded, ts.Failed)
		p.ParseRetrying(ts.Retrying)
		for _, m := range ts.Messages {
			p.SetMessage(int(m.Index), m.Message)
		}
		stored[t] = &p
	}
	return stored
}

// recordJobs records the outcome of every Job this Execution controls, in
// spec order so that the first failure named is deterministic, and returns
// which jobs have a Job, per task.
func (s *executionState) recordJobs(jobs []*cachedJob) []indexset.Set {
	type found struct {
		task, index int
		job         *cachedJob
	}
	var owned []found
	for _, job := range jobs {
		if job.ownerUID() != s.uid {
			continue
		}
		if t, i, ok := s.graph.ParseJobName(job.name); ok {
			owned = append(owned, found{t, i, job})
		}
	}
	slices.SortFunc(owned, func(a, b found) int {
		return cmp.Or(cmp.Compare(a.task, b.task), cmp.Compare(a.index, b.index))
	})
	present := make([]indexset.Set, len(s.tasks))
	for _, f := range owned {
		present[f.task].Add(f.index)
		if s.tasks[f.task].Retrying.Has(f.index) {
			if f.job.attempt < s.attempt() {
				continue // the failed Job of an earlier attempt, to delete
			}
			// Created again already, before the status said so.
			s.tasks[f.task].Retrying.Remove(f.index)
		}
		switch f.job.outcome {
		case jobActive:
			s.markCreated(f.task, f.index)
		case jobSucceeded:
			s.sawSuccess(f.task, f.index, s.markSucceeded(f.task, f.index))
			s.cleanUpLater(f.task, f.index)
		case jobFailed:
			reason, message := f.job.failed()
			s.markFailed(f.task, f.index, jobFailureMessages(f.job.name, reason, message))
		}
	}
	return present
}

// recordGoneJobs takes over the stored outcomes of jobs whose Job is gone
// (deleted by the garbage collector, TTL or a user).
func (s *executionState) recordGoneJobs(stored []*progress.Task, present []indexset.Set) {
	g := s.graph
	for t := range s.tasks {
		// Retried jobs whose failed Job is gone already wait to be created.
		retrying := &s.tasks[t].Retrying
		retrying.Clone().Each(func(i int) bool {
			if !present[t].Has(i) {
				retrying.Remove(i)
			}
			return true
		})
	}
	for t, st := range stored {
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
		// A stored success stands also where the cache still shows the
		// Job running: a stale cache whose next event may be the Job's
		// deletion (jobCleanup), which must not fail the job.
		st.Succeeded.Each(func(i int) bool {
			if i < g.Jobs(t) {
				s.markSucceeded(t, i)
			}
			return true
		})
		gone(st.Failed, func(i int) {
			s.markFailed(t, i, jobFailureMessages(g.JobName(t, i), "", st.JobMessage(i)))
		})
		// Created, unfinished, and now gone: deleted by someone. Running it
		// again could run a command twice, so the vertex fails instead.
		gone(st.Created, func(i int) {
			if !s.tasks[t].Finished(i) {
				s.markFailed(t, i, deletedMessages(g.JobName(t, i)))
			}
		})
	}
}

// queueReady queues every unstarted job that is ready: the one full scan
// of the jobs, done once per rebuild.
func (s *executionState) queueReady() {
	for t := range s.tasks {
		for i := 0; i < s.graph.Jobs(t); i++ {
			if !s.tasks[t].Created.Has(i) && !s.tasks[t].Retrying.Has(i) && s.graph.Ready(s, t, i) {
				s.pushReady(t, readyJob{index: i})
			}
		}
	}
}
