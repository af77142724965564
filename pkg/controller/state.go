package controller

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/indexset"
	"kubegene.io/kubegene/pkg/progress"
)

// maxMessagesPerTask bounds the failure messages kept per task, so a task
// whose 10,000 jobs all fail does not bloat the stored status.
const maxMessagesPerTask = 10

// Vertex messages of Jobs deleted while they ran: by someone, or by the
// controller at the Execution's deadline.
const (
	messageJobDeleted        = "the job was deleted before it finished"
	messageDeletedAtDeadline = "the job was deleted at the execution's active deadline"
)

// observation is one Job event, recorded by an informer handler for the
// worker that syncs the Execution. Handlers stay cheap and never touch the
// rest of the state, which only that worker changes.
type observation struct {
	job     string
	owner   types.UID
	outcome jobOutcome
	reason  string
	message string
	// attempt is the Execution's attempt the Job was created for.
	attempt int32
	// deleted: the Job is gone (whatever its outcome was).
	deleted bool
	// hasPods: the Job has pods (status.active > 0).
	hasPods bool
	// podsRefused is the message of a FailedCreate event: the Job
	// controller could not create the Job's pod.
	podsRefused string
	// at is when the handler saw the event: the start of the dependency to
	// start latency of the Jobs this one makes ready.
	at time.Time
}

// readyJob is a job whose dependencies have all succeeded and which waits
// to be created. since is when its last dependency was seen to complete
// (zero if unknown, e.g. for roots or after a restart), and via the type of
// that dependency.
type readyJob struct {
	index int
	since time.Time
	via   dag.DependencyType
}

// readyMark is when and through which dependency type a job became ready.
type readyMark struct {
	since time.Time
	via   dag.DependencyType
}

// maxReadyMarks bounds the ready jobs per task whose time of readiness is
// kept for the dependency-to-start metric; jobs past it start unmeasured.
const maxReadyMarks = 4096

// taskState is the progress of one task's jobs, in the form the server
// stores and renders it, plus the jobs ready to be created.
type taskState struct {
	progress.Task
	// Rerun are the jobs retried in the current attempt: events of their
	// earlier Jobs are stale.
	Rerun indexset.Set
	// ready are the jobs ready to be created, started in index order. As
	// a set of intervals it stays small however many jobs are ready: a
	// root task of 100,000 jobs is one interval.
	ready indexset.Set
	// readyMarks are when some ready jobs became ready, by index.
	readyMarks map[int]readyMark
}

// failedJob is a job failure not yet reported in an event.
type failedJob struct {
	task, index int
	message     string
}

// executionState is the controller's in-memory view of one Execution: the
// graph, per-task sets of job outcomes, the jobs ready to start and the
// counts that enforce parallelism. It is built once from the Jobs in the
// cache plus the stored status, then updated from Job events, so readiness
// after an event costs O(children), never a scan of all jobs.
//
// Only the worker holding the Execution's key reads or writes it, except
// the inbox, which handlers fill under inboxMu.
type executionState struct {
	uid types.UID
	// graph is nil when the spec does not build; failure then says why.
	graph *dag.Graph
	tasks []taskState
	// active counts created jobs that have not finished, over all tasks.
	active     int
	succeeded  int
	failed     int
	readyCount int
	// failure is the Execution's message once a job failed (or why the
	// spec cannot run); under FailFast no job starts after that.
	failure string
	// policy is the Execution's failure policy.
	policy v1alpha1.FailurePolicy
	// deadline says how the Execution overran spec.activeDeadlineSeconds;
	// no job starts after that.
	deadline string
	// suspended is spec.suspend as of the newest read of the Execution
	// (see known).
	suspended bool
	// attempts is status.attempts as the state was built from it; a retry
	// changes it, and the state is built anew.
	attempts              int32
	startedAt, finishedAt *metav1.Time
	// unreported are the failures recorded since the last takeFailures.
	unreported []failedJob

	// lastRead is the Execution as this controller last read it from the
	// server, not the cache: the answer of its last status write, or the
	// fresh read of a write that conflicted. See known.
	lastRead *v1alpha1.Execution
	// writtenAt is when this controller last wrote the status.
	writtenAt time.Time
	// createBatch sizes the concurrent creations.
	createBatch slowStart
	// activeCap bounds the active jobs; 0 means no bound.
	activeCap int
	// blocked is what keeps Jobs from being created or from getting pods.
	blocked blockages
	// backoff spaces out creations after a refusal.
	backoff createBackoff
	// warned are the distinct warnings of Job creations seen, and warning
	// says the latest, for condition JobWarning.
	warned  map[string]bool
	warning string
	// cleanup are the succeeded Jobs to delete under spec.jobCleanup
	// OnJobSuccess; nil under Never. See cleanup.go.
	cleanup *jobCleanup
	// eviction says which succeeded Jobs may leave the Job cache under
	// spec.jobCleanup Never; nil under OnJobSuccess. See evict.go.
	eviction *successEviction
	// gone: a status write found the Execution deleted; see retire.
	gone bool
	// podRefusals is the number of Jobs in blocked.pods, for the informer
	// handlers, which must not touch the rest of the state.
	podRefusals atomic.Int32
	// jobEvents is the budget of per-Job events; see newJobEventBudget.
	jobEvents *rate.Limiter

	inboxMu sync.Mutex
	inbox   []observation
}

// attempt is the Execution's current attempt: 1, plus one per retry.
func (s *executionState) attempt() int32 { return max(s.attempts, 1) }

func newExecutionState(uid types.UID) *executionState {
	return &executionState{uid: uid, jobEvents: newJobEventBudget()}
}

// observe queues a Job event for the next sync.
func (s *executionState) observe(o observation) {
	s.inboxMu.Lock()
	s.inbox = append(s.inbox, o)
	s.inboxMu.Unlock()
}

func (s *executionState) takeInbox() []observation {
	s.inboxMu.Lock()
	defer s.inboxMu.Unlock()
	in := s.inbox
	s.inbox = nil
	return in
}

// Succeeded implements dag.State.
func (s *executionState) Succeeded(task, index int) bool {
	return s.tasks[task].Succeeded.Has(index)
}

// SucceededCount implements dag.State: whole dependencies are checked with
// this counter, not by looking at every job of the task.
func (s *executionState) SucceededCount(task int) int {
	return s.tasks[task].Succeeded.Count()
}

// markCreated records that job i of task t exists.
func (s *executionState) markCreated(t, i int) bool {
	if !s.tasks[t].Created.Add(i) {
		return false
	}
	s.tasks[t].Retrying.Remove(i)
	s.active++
	return true
}

// markFinished records that job i of task t ended in set, creating it
// first if need be. It reports false if the job had already finished.
func (s *executionState) markFinished(t, i int, set *indexset.Set) bool {
	if s.tasks[t].Finished(i) {
		return false
	}
	s.markCreated(t, i)
	set.Add(i)
	s.active--
	return true
}

// markSucceeded records a success without looking at readiness; see succeed.
func (s *executionState) markSucceeded(t, i int) bool {
	if !s.markFinished(t, i, &s.tasks[t].Succeeded) {
		return false
	}
	s.succeeded++
	return true
}

// succeed records a success seen at time at and queues the children it
// makes ready: O(children), with per-task counters for whole dependencies.
func (s *executionState) succeed(t, i int, at time.Time) bool {
	if !s.markSucceeded(t, i) {
		return false
	}
	s.graph.NewlyReady(s, t, i, func(ct, ci int, via dag.DependencyType) bool {
		s.pushReady(ct, readyJob{index: ci, since: at, via: via})
		return true
	})
	return true
}

// failureMessages say why a job failed: on its vertex, and on the
// Execution if it is the first failure.
type failureMessages struct {
	vertex, execution string
}

func jobFailureMessages(name, reason, message string) failureMessages {
	if message == "" {
		message = cmp.Or(reason, progress.MessageJobFailed)
	}
	return failureMessages{vertex: message, execution: fmt.Sprintf("job %s failed: %s", name, cmp.Or(reason, message))}
}

func deletedMessages(name string) failureMessages {
	return failureMessages{vertex: messageJobDeleted, execution: fmt.Sprintf("job %s was deleted before it finished", name)}
}

// markFailed records a failed job, to be reported by takeFailures; the
// first failure fails the Execution.
func (s *executionState) markFailed(t, i int, m failureMessages) bool {
	ts := &s.tasks[t]
	if !s.markFinished(t, i, &ts.Failed) {
		return false
	}
	s.failed++
	if len(ts.Messages) < maxMessagesPerTask {
		ts.SetMessage(i, m.vertex)
	}
	if s.failure == "" {
		s.failure = m.execution
	}
	s.unreported = append(s.unreported, failedJob{task: t, index: i, message: m.vertex})
	return true
}

// takeFailures returns the failures recorded since the last call.
func (s *executionState) takeFailures() []failedJob {
	f := s.unreported
	s.unreported = nil
	return f
}

// pushReady queues a ready job to be created, once.
func (s *executionState) pushReady(t int, r readyJob) {
	ts := &s.tasks[t]
	if ts.Created.Has(r.index) || ts.Retrying.Has(r.index) || !ts.ready.Add(r.index) {
		return
	}
	s.readyCount++
	if !r.since.IsZero() && len(ts.readyMarks) < maxReadyMarks {
		if ts.readyMarks == nil {
			ts.readyMarks = map[int]readyMark{}
		}
		ts.readyMarks[r.index] = readyMark{since: r.since, via: r.via}
	}
}

// apply records one observed Job event. Events of Jobs this Execution does
// not control (e.g. of a deleted namesake) are ignored.
func (s *executionState) apply(o observation) {
	if s.graph == nil || o.owner != s.uid {
		return
	}
	t, i, ok := s.graph.ParseJobName(o.job)
	if !ok {
		return
	}
	if o.podsRefused != "" {
		if s.tasks[t].Created.Has(i) && !s.tasks[t].Finished(i) {
			s.blockPods(o.job, o.podsRefused)
		}
		return
	}
	if o.hasPods || o.outcome != jobActive || o.deleted {
		s.podsWorked(o.job)
	}
	if o.attempt < s.attempt() && s.tasks[t].Rerun.Has(i) {
		// The failed Job of a retried job's earlier attempt: only its
		// deletion matters, after which the job runs again. (Jobs of
		// earlier attempts that were not retried count as usual.)
		if o.deleted && s.tasks[t].Retrying.Remove(i) && s.graph.Ready(s, t, i) {
			s.pushReady(t, readyJob{index: i})
		}
		return
	}
	switch o.outcome {
	case jobActive:
		s.markCreated(t, i)
	case jobSucceeded:
		s.sawSuccess(t, i, s.succeed(t, i, o.at))
	case jobFailed:
		s.markFailed(t, i, jobFailureMessages(o.job, o.reason, o.message))
	case jobGone:
		switch {
		case !s.tasks[t].Created.Has(i):
		case s.deadline != "":
			s.markFailed(t, i, failureMessages{vertex: messageDeletedAtDeadline, execution: s.deadline})
		default:
			s.markFailed(t, i, deletedMessages(o.job))
		}
	}
	s.observeForCleanup(t, i, o)
}

// pendingJob is a job taken from the ready queue to be created.
type pendingJob struct {
	task int
	readyJob
}

// freeSlots is how many more jobs may be active under the Execution's
// parallelism (unset or 0 means no cap) and the controller's bound.
func (s *executionState) freeSlots(e *v1alpha1.Execution) int {
	free := int(^uint(0) >> 1)
	if p := e.Spec.Parallelism; p != nil && *p > 0 {
		free = int(*p) - s.active
	}
	if s.activeCap > 0 {
		free = min(free, s.activeCap-s.active)
	}
	return max(0, free)
}

func taskFreeSlots(e *v1alpha1.Execution, ts *taskState, t int) int {
	if p := e.Spec.Tasks[t].Parallelism; p != nil && *p > 0 {
		return max(0, int(*p)-ts.Active())
	}
	return int(^uint(0) >> 1)
}

// takeReady removes up to limit ready jobs from the queues within the
// Execution's and the tasks' parallelism, in spec order of tasks and index
// order within a task.
func (s *executionState) takeReady(e *v1alpha1.Execution, limit int) []pendingJob {
	limit = min(limit, s.freeSlots(e))
	var todo []pendingJob
	for t := range s.tasks {
		if len(todo) >= limit {
			break
		}
		ts := &s.tasks[t]
		n := min(limit-len(todo), taskFreeSlots(e, ts, t))
		var taken []int
		ts.ready.Each(func(i int) bool {
			if len(taken) == n {
				return false
			}
			taken = append(taken, i)
			return true
		})
		for _, i := range taken {
			ts.ready.Remove(i)
			s.readyCount--
			if ts.Created.Has(i) {
				continue // adopted meanwhile
			}
			r := readyJob{index: i}
			if m, ok := ts.readyMarks[i]; ok {
				r.since, r.via = m.since, m.via
				delete(ts.readyMarks, i)
			}
			todo = append(todo, pendingJob{task: t, readyJob: r})
		}
		if len(ts.readyMarks) == 0 {
			ts.readyMarks = nil // release the map
		}
	}
	return todo
}

// returnReady puts jobs that could not be created back into their queues.
func (s *executionState) returnReady(jobs []pendingJob) {
	for _, p := range jobs {
		s.pushReady(p.task, p.readyJob)
	}
}

// startable reports whether a ready job could be created now.
func (s *executionState) startable(e *v1alpha1.Execution) bool {
	if s.readyCount == 0 || s.stopped() || s.suspended || s.freeSlots(e) == 0 {
		return false
	}
	for t := range s.tasks {
		if s.tasks[t].ready.Count() > 0 && taskFreeSlots(e, &s.tasks[t], t) > 0 {
			return true
		}
	}
	return false
}

// createdCount is the number of jobs created so far.
func (s *executionState) createdCount() int {
	n := 0
	for t := range s.tasks {
		n += s.tasks[t].Created.Count()
	}
	return n
}
