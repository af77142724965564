package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
)

// Job cleanup (spec.jobCleanup: OnJobSuccess): each succeeded Job is
// deleted, with its pods, once its success is in the stored status. A
// restart then finds either the Job or the recorded success, never neither:
// rebuild takes the stored success of a Job that is gone
// (recordGoneJobs), and the deletion event of a Job whose success is
// recorded changes nothing (its outcome is the Job's last state, and a
// stale tombstone cannot fail a finished job: markFinished refuses).
// Failed Jobs stay, for kubectl logs.

const (
	// maxCleanupsPerSync bounds the Jobs one sync deletes, so that a sync
	// after a restart over thousands of succeeded Jobs still ends soon;
	// the rest follow in the next syncs.
	maxCleanupsPerSync = 500
	// maxCleanupBatch bounds the concurrent deletions of one Execution
	// (see slowStart).
	maxCleanupBatch = 64
)

// Reason of the event that says an Execution's succeeded Jobs are deleted.
const reasonCleaningUpJobs = "CleaningUpJobs"

// jobCleanup is what an Execution under OnJobSuccess keeps between syncs:
// the succeeded jobs whose Job still exists and has not been deleted yet,
// and those whose deletion was asked for but not seen yet: O(jobs in
// flight), never all jobs.
type jobCleanup struct {
	// pending holds, per task, succeeded jobs whose Job is to be deleted.
	pending []indexset.Set
	count   int
	// deleting holds, per task, jobs whose Job was deleted (or found gone)
	// and whose deletion event has not come yet: a late event of the Job
	// does not make it pending again, and the state is kept until the Job
	// cache no longer shows it (else a finished Execution would get a
	// state again for it, see succeededJobsLeft).
	deleting      []indexset.Set
	deletingCount int
	// batch sizes the concurrent deletions.
	batch slowStart
	// announced: the event saying Jobs are deleted was recorded.
	announced bool

	// stored holds the succeeded sets of the stored Execution.
	stored storedSucceeded
}

// newJobCleanup returns the cleanup state of e, or nil if its succeeded
// Jobs are kept.
func newJobCleanup(e *v1alpha1.Execution, tasks int) *jobCleanup {
	if e.Spec.JobCleanup != v1alpha1.JobCleanupOnJobSuccess {
		return nil
	}
	return &jobCleanup{pending: make([]indexset.Set, tasks), deleting: make([]indexset.Set, tasks)}
}

// cleanUpLater records that job i of task t succeeded and its Job exists:
// it is deleted once the success is stored. Nothing under JobCleanup Never.
func (s *executionState) cleanUpLater(t, i int) {
	cl := s.cleanup
	if cl == nil || !s.tasks[t].Succeeded.Has(i) || cl.deleting[t].Has(i) {
		return
	}
	if cl.pending[t].Add(i) {
		cl.count++
	}
}

// observeForCleanup keeps the pending deletions up to date with one Job
// event: a Job seen succeeded is to be deleted, a Job seen gone is not any
// more (whoever deleted it).
func (s *executionState) observeForCleanup(t, i int, o observation) {
	switch {
	case s.cleanup == nil:
	case o.deleted:
		s.cleanup.done(t, i)
		if s.cleanup.deleting[t].Remove(i) {
			s.cleanup.deletingCount--
		}
	case o.outcome == jobSucceeded:
		s.cleanUpLater(t, i)
	}
}

// done drops job i of task t from the pending deletions.
func (cl *jobCleanup) done(t, i int) {
	if cl.pending[t].Remove(i) {
		cl.count--
	}
}

// deleted moves job i of task t from the pending deletions to those whose
// event is awaited.
func (cl *jobCleanup) deleted(t, i int) {
	cl.done(t, i)
	if cl.deleting[t].Add(i) {
		cl.deletingCount++
	}
}

// cleanupPending reports whether succeeded Jobs wait to be deleted, or
// for their deletion to be seen: the state is kept until then.
func (s *executionState) cleanupPending() bool {
	return s.cleanup != nil && s.cleanup.count+s.cleanup.deletingCount > 0
}

// cleanupJob is a Job to delete: its job, name and the UID it has in the
// cache.
type cleanupJob struct {
	task, index int
	name        string
	uid         types.UID
}

// cleanUpJobs deletes, under OnJobSuccess, the succeeded Jobs whose success
// is in the stored status (s.known(e): the cache, or what this controller
// last read from the server), with background propagation so their pods
// go too. It runs after updateStatus, so a success written in this sync
// counts. Jobs not in the cache are left for later: they are gone (their
// deletion event drops them) or not seen yet (their event brings them
// back). NotFound means done; other errors are returned, to be retried
// with backoff.
func (c *Controller) cleanUpJobs(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution, s *executionState) error {
	cl := s.cleanup
	if cl == nil || cl.count == 0 || e.DeletionTimestamp != nil || s.graph == nil {
		return nil
	}
	stored := s.known(e)
	var todo []cleanupJob
	var stale [][2]int
	more := false
	for t := range cl.pending {
		if cl.pending[t].Count() == 0 {
			continue
		}
		recorded := cl.stored.task(stored, s.graph.TaskName(t), t)
		cl.pending[t].Each(func(i int) bool {
			if !recorded.Has(i) {
				return true // not stored yet: after the next status write
			}
			if len(todo) == maxCleanupsPerSync {
				more = true
				return false
			}
			name := s.graph.JobName(t, i)
			job, ok := c.jobs.get(e.Namespace, name)
			switch {
			case !ok, job.deletionTimestamp != nil:
				// Not in the cache, or being deleted: its events decide.
			case job.ownerUID() != s.uid:
				stale = append(stale, [2]int{t, i}) // ours is gone
			case job.outcome == jobSucceeded:
				todo = append(todo, cleanupJob{task: t, index: i, name: name, uid: job.uid})
			}
			return true
		})
		if more {
			break
		}
	}
	for _, ti := range stale {
		cl.done(ti[0], ti[1])
	}
	if more {
		c.queue.Add(key)
	}
	if len(todo) == 0 {
		return nil
	}
	if !cl.announced {
		cl.announced = true
		c.recorder.Event(executionRef(e), corev1.EventTypeNormal, reasonCleaningUpJobs,
			"Deleting each succeeded job and its pods once its success is recorded (spec.jobCleanup: OnJobSuccess); failed jobs are kept, status.vertices shows every job")
	}
	return c.deleteSucceededJobs(ctx, e.Namespace, cl, todo)
}

// deleteSucceededJobs deletes todo in batches of concurrent requests,
// stopping at the first batch with an error.
func (c *Controller) deleteSucceededJobs(ctx context.Context, namespace string, cl *jobCleanup, todo []cleanupJob) error {
	jobs := c.kube.BatchV1().Jobs(namespace)
	background := metav1.DeletePropagationBackground
	for start := 0; start < len(todo); {
		batch := todo[start:min(start+cl.batch.next(maxCleanupBatch), len(todo))]
		start += len(batch)
		results := make([]error, len(batch))
		concurrently(len(batch), func(k int) {
			results[k] = jobs.Delete(ctx, batch[k].name, metav1.DeleteOptions{
				PropagationPolicy: &background,
				// Not a Job of the same name created since.
				Preconditions: &metav1.Preconditions{UID: &batch[k].uid},
			})
		})

		var errs []error
		for k, j := range batch {
			switch err := results[k]; {
			case err == nil:
				jobsCleanedUp.Inc()
				cl.deleted(j.task, j.index)
			case apierrors.IsNotFound(err), apierrors.IsConflict(err):
				// Gone already, or the name is another Job's now (the
				// UID precondition failed): ours is gone either way, and
				// the cache, which had it, will say so.
				cl.deleted(j.task, j.index)
			default:
				errs = append(errs, fmt.Errorf("deleting succeeded job %s/%s: %w", namespace, j.name, err))
			}
		}
		if len(errs) > 0 {
			cl.batch.failed()
			return utilerrors.NewAggregate(errs)
		}
		cl.batch.worked(maxCleanupBatch)
	}
	return nil
}

// succeededJobsLeft reports whether a finished Execution under OnJobSuccess
// still has succeeded Jobs in the cache, e.g. after a restart between its
// last status write and their deletion: it then gets a state again, whose
// sync deletes them. O(the Execution's remaining Jobs), which under
// OnJobSuccess are its failed ones and those not deleted yet.
func (c *Controller) succeededJobsLeft(key cache.ObjectName, e *v1alpha1.Execution) bool {
	if e.Spec.JobCleanup != v1alpha1.JobCleanupOnJobSuccess || e.DeletionTimestamp != nil {
		return false
	}
	for _, job := range c.jobs.ofExecution(key) {
		if job.deletionTimestamp == nil && job.ownerUID() == e.UID && job.outcome == jobSucceeded {
			return true
		}
	}
	return false
}
