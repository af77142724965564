package controller

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
)

// Evicting stored successes. Under spec.jobCleanup Never every succeeded
// Job stays in the cluster, and the Job informer keeps a record of every
// Job it watches: an Execution of 100,000 jobs would leave 100,000 records
// in the controller's memory for jobs that are done. Once the stored status
// holds a job's success, that status answers for the job, as it does for a
// Job that is gone (see recordGoneJobs): the controller evicts the record
// from its Job cache. The cache keeps the Jobs that run, the failed ones
// (a rebuild needs them: a retried job waits for its failed Job's
// deletion) and the successes not stored yet: O(jobs in flight) while
// Executions run. Starting, and relisting after a watch was lost, do not
// bring them back: the Job informer leaves out, as it lists, the Jobs
// whose success is stored and of which the cache holds no record
// (Controller.leavesOut, newJobInformer).
//
// The cache is this controller's own (its informer factory is not shared)
// and the records are immutable, so evicting one is safe: the informer
// hands the next update of that Job to the handlers as an Add (a deletion
// as a Delete). The state, or for a finished Execution its sync, then sees
// a success stored, and evicts the record again.
// Besides the informer's handlers, the cache is read by rebuild, which
// takes the stored success instead, by adoptOrRefuse, which reads a Job it
// does not find from the API, and by observeFailedCreate and the OnJobSuccess
// cleanup, which only look for Jobs that are not evicted: running ones, and
// succeeded ones under OnJobSuccess, where nothing is evicted (cleanup
// deletes those Jobs, and reads their UIDs from the cache).

// successEviction tracks, for an Execution under jobCleanup Never, which
// succeeded Jobs may leave the Job cache.
type successEviction struct {
	// unstored holds, per task, the successes not known to be in the
	// stored status yet: their records are evicted after the next write.
	unstored      []indexset.Set
	unstoredCount int
	// again are stored successes whose Job was seen again: the informer
	// holds a record of it once more, evicted at the end of the sync.
	again []jobIndex
}

// jobIndex is job index of task number task.
type jobIndex struct {
	task, index int
}

// newSuccessEviction returns the tracking of e's successes, or nil if its
// succeeded Jobs are deleted instead (OnJobSuccess).
func newSuccessEviction(e *v1alpha1.Execution, tasks int) *successEviction {
	if e.Spec.JobCleanup == v1alpha1.JobCleanupOnJobSuccess {
		return nil
	}
	return &successEviction{unstored: make([]indexset.Set, tasks)}
}

// sawSuccess records that the Job of job i of task t was seen succeeded;
// newly says whether that made the job succeed in the state. A success
// seen again that is not waiting to be stored is stored already.
func (s *executionState) sawSuccess(t, i int, newly bool) {
	ev := s.eviction
	switch {
	case ev == nil, !s.tasks[t].Succeeded.Has(i):
	case newly:
		if ev.unstored[t].Add(i) {
			ev.unstoredCount++
		}
	case !ev.unstored[t].Has(i):
		ev.again = append(ev.again, jobIndex{t, i})
	}
}

// evictStoredSuccesses evicts from the Job cache the records of the
// Execution's succeeded Jobs whose success is stored: those seen again,
// and, once the status the state stands for is stored (written now, or
// shown by the cache), all that waited for it.
func (c *Controller) evictStoredSuccesses(namespace string, s *executionState, outcome statusOutcome) {
	ev := s.eviction
	if ev == nil || s.graph == nil {
		return
	}
	for _, j := range ev.again {
		c.jobs.evictSucceeded(namespace, s.graph.JobName(j.task, j.index), s.uid)
	}
	ev.again = nil
	if outcome == statusPending || ev.unstoredCount == 0 {
		return
	}
	for t := range ev.unstored {
		ev.unstored[t].Each(func(i int) bool {
			c.jobs.evictSucceeded(namespace, s.graph.JobName(t, i), s.uid)
			return true
		})
		ev.unstored[t] = indexset.Set{}
	}
	ev.unstoredCount = 0
}

// evictFinishedSuccesses evicts the records of the succeeded Jobs of an
// Execution that finished and has no state (it finished before this
// controller started, or its state was freed) whose success is stored:
// those the informer cached before the stored status showed their success,
// or brought back with an update since. It costs a look at the
// Execution's few remaining records.
func (c *Controller) evictFinishedSuccesses(key cache.ObjectName, e *v1alpha1.Execution) {
	if e.Spec.JobCleanup == v1alpha1.JobCleanupOnJobSuccess {
		return
	}
	for _, job := range c.jobs.ofExecution(key) {
		if job.outcome == jobSucceeded && job.ownerUID() == e.UID && c.stored.has(e, job.name) {
			c.jobs.evictSucceeded(e.Namespace, job.name, e.UID)
		}
	}
}

// evictSucceeded evicts the record of Job namespace/name if it is a
// succeeded Job that the Execution with UID owner controls; any other
// record stays. It deletes by key (a tombstone), so that the store's
// resourceVersion does not go back to the record's.
func (jc jobCache) evictSucceeded(namespace, name string, owner types.UID) {
	job, ok := jc.get(namespace, name)
	if !ok || job.outcome != jobSucceeded || job.ownerUID() != owner {
		return
	}
	key := cache.NewObjectName(namespace, name).String()
	if err := jc.indexer.Delete(cache.DeletedFinalStateUnknown{Key: key, Obj: job}); err != nil {
		utilruntime.HandleError(fmt.Errorf("evicting job %s from the cache: %w", key, err))
	}
}
