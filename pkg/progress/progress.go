// Package progress is the one reading of an Execution's stored progress and
// the one phase rule. The status stores, per task, which jobs were created,
// succeeded and failed as index sets (e.g. "0-4999,5001") plus a few failure
// messages; rendering status.vertices, the graph subresource and the
// controller all read it through Task, and derive phases through Counts, so
// they cannot disagree on what a job's or a task's state is.
package progress

import (
	"kubegene.io/kubegene/pkg/indexset"
)

// Phase is the phase of a job, a task or an Execution. Its values are those
// of the API's ExecutionPhase, to which callers convert it.
type Phase string

const (
	Pending   Phase = "Pending"
	Running   Phase = "Running"
	Succeeded Phase = "Succeeded"
	Failed    Phase = "Failed"
)

// Vertex messages, as users of the original kube-dag know them, and of a
// retried job.
const (
	MessageJobSucceeded = "success"
	MessageJobFailed    = "failed"
	MessageJobRetrying  = "failed; runs again (retry)"
)

// Task is the progress of one task's jobs. Succeeded and Failed are
// disjoint subsets of Created. The zero Task is a task none of whose jobs
// was created, and a nil *Task reads the same.
type Task struct {
	Created, Succeeded, Failed indexset.Set
	// Retrying are jobs that failed and were retried: not created, since
	// their failed Job is deleted before it is created again.
	Retrying indexset.Set
	// Messages says why jobs failed, by index; bounded by the writer.
	Messages map[int]string
}

// ParseTask reads a task's stored index sets. A set that does not parse
// reads as empty: status writes are validated, so this only keeps data
// written by an older server from stopping a read or an Execution.
func ParseTask(created, succeeded, failed string) Task {
	var t Task
	t.Created, _ = indexset.Parse(created)
	t.Succeeded, _ = indexset.Parse(succeeded)
	t.Failed, _ = indexset.Parse(failed)
	return t
}

// ParseRetrying reads the task's stored set of retried jobs, as ParseTask
// reads the others.
func (t *Task) ParseRetrying(retrying string) {
	t.Retrying, _ = indexset.Parse(retrying)
}

// SetMessage records why job index failed.
func (t *Task) SetMessage(index int, message string) {
	if t.Messages == nil {
		t.Messages = make(map[int]string)
	}
	t.Messages[index] = message
}

// Finished reports whether job index succeeded or failed.
func (t *Task) Finished(index int) bool {
	return t != nil && (t.Succeeded.Has(index) || t.Failed.Has(index))
}

// Active is the number of created jobs that have not finished.
func (t *Task) Active() int {
	if t == nil {
		return 0
	}
	return t.Created.Count() - t.Succeeded.Count() - t.Failed.Count()
}

// JobPhase is the phase of job index.
func (t *Task) JobPhase(index int) Phase {
	switch {
	case t == nil:
		return Pending
	case t.Succeeded.Has(index):
		return Succeeded
	case t.Failed.Has(index):
		return Failed
	case t.Created.Has(index):
		return Running
	}
	return Pending
}

// JobMessage is what the vertex of job index says: "success", why it
// failed ("failed" if nobody said), or nothing while it is not finished.
func (t *Task) JobMessage(index int) string {
	switch t.JobPhase(index) {
	case Succeeded:
		return MessageJobSucceeded
	case Failed:
		if m := t.Messages[index]; m != "" {
			return m
		}
		return MessageJobFailed
	}
	if t != nil && t.Retrying.Has(index) {
		return MessageJobRetrying
	}
	return ""
}

// Counts counts the task's jobs by phase; jobs is the task's job count.
func (t *Task) Counts(jobs int) Counts {
	if t == nil {
		return Counts{Jobs: jobs}
	}
	return Counts{Jobs: jobs, Running: max(t.Active(), 0), Succeeded: t.Succeeded.Count(), Failed: t.Failed.Count()}
}

// Counts are the jobs of a task or an Execution by phase.
type Counts struct {
	Jobs, Running, Succeeded, Failed int
}

// Pending is the number of jobs not created yet.
func (c Counts) Pending() int {
	return max(c.Jobs-c.Running-c.Succeeded-c.Failed, 0)
}

// Phase is the phase rule: a failure is final even while other jobs still
// run, success needs every job, and anything started is running.
func (c Counts) Phase() Phase {
	switch {
	case c.Failed > 0:
		return Failed
	case c.Succeeded == c.Jobs:
		return Succeeded
	case c.Running > 0 || c.Succeeded > 0:
		return Running
	}
	return Pending
}
