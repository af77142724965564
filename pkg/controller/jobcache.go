package controller

import (
	"fmt"
	"time"
	"unique"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
)

// cachedJob is what the controller keeps of one of its Jobs: who it is,
// whose it is, and how far it got. The Job informer turns every Job it
// receives into one (see cacheJob), so the cache costs a few hundred bytes
// per Job instead of a batchv1.Job's few kilobytes, for the Jobs that run,
// the failed ones and the successes not stored yet (the others are left
// out or evicted, evict.go). It implements metav1.Object (in
// jobcache_meta.go) for the cache and its key function, without an
// ObjectMeta: that struct alone would be most of the record.
type cachedJob struct {
	name string
	uid  types.UID
	// resourceVersion tells a relist's unchanged Jobs from updates.
	resourceVersion   string
	deletionTimestamp *metav1.Time

	// namespace, execution (the name in its LabelExecution label) and
	// owner (the Execution that controls it, zero if none does) are the
	// same for all Jobs of an Execution: interned, they are kept once, not
	// once per Job.
	namespace unique.Handle[string]
	execution unique.Handle[string]
	owner     unique.Handle[jobOwner]
	// attempt is the Execution attempt the Job was created for.
	attempt int32
	outcome jobOutcome
	// hasPods: the Job has active pods.
	hasPods bool
	// failure is a failed Job's Failed condition; nil for the others,
	// which are nearly all: two strings in every record would be a tenth
	// of it.
	failure *jobFailure
}

// jobFailure is the reason and message of a failed Job's Failed condition.
type jobFailure struct {
	reason, message string
}

// jobOwner is the Execution that controls a Job.
type jobOwner struct {
	name string
	uid  types.UID
}

// executionName is the Job's LabelExecution label.
func (j *cachedJob) executionName() string { return valueOf(j.execution) }

// valueOf is the value of an interned string, "" for the zero handle.
func valueOf(h unique.Handle[string]) string {
	if h == (unique.Handle[string]{}) {
		return ""
	}
	return h.Value()
}

// controller is the Execution that controls the Job; zero if none does.
func (j *cachedJob) controller() jobOwner {
	if j.owner == (unique.Handle[jobOwner]{}) {
		return jobOwner{}
	}
	return j.owner.Value()
}

// ownerUID is the UID of the Execution that controls the Job, or "".
func (j *cachedJob) ownerUID() types.UID { return j.controller().uid }

// ownerName is the name of the Execution that controls the Job, or "".
func (j *cachedJob) ownerName() string { return j.controller().name }

// failed is the reason and message of the Job's Failed condition, if any.
func (j *cachedJob) failed() (reason, message string) {
	if j.failure == nil {
		return "", ""
	}
	return j.failure.reason, j.failure.message
}

// observation is what the record tells its Execution's state, as seen at
// at. Callers add what only they know: a deletion, a refused pod.
func (j *cachedJob) observation(at time.Time) observation {
	reason, message := j.failed()
	return observation{job: j.name, owner: j.ownerUID(), outcome: j.outcome, reason: reason, message: message,
		attempt: j.attempt, hasPods: j.hasPods, at: at}
}

// recordOf returns what the controller keeps of job.
func recordOf(job *batchv1.Job) *cachedJob {
	outcome, reason, message := outcomeOf(job)
	r := &cachedJob{
		name: job.Name, uid: job.UID, resourceVersion: job.ResourceVersion, deletionTimestamp: job.DeletionTimestamp,
		namespace: unique.Make(job.Namespace),
		execution: unique.Make(job.Labels[LabelExecution]),
		attempt:   jobAttempt(job),
		outcome:   outcome,
		hasPods:   job.Status.Active > 0,
	}
	if reason != "" || message != "" {
		r.failure = &jobFailure{reason: reason, message: message}
	}
	if ref := controllerOf(job); ref != nil {
		r.owner = unique.Make(jobOwner{name: ref.Name, uid: ref.UID})
	}
	return r
}

// cacheJob is the Job informer's transform: it stores a cachedJob for each
// Job. It must be idempotent: with watch-list, client-go transforms the
// listed objects once into a temporary store, and again as they replace
// the cache's content.
func cacheJob(obj any) (any, error) {
	switch obj := obj.(type) {
	case *batchv1.Job:
		return recordOf(obj), nil
	case *cachedJob:
		return obj, nil
	default:
		return nil, unexpectedJobObject(obj)
	}
}

// asCachedJob is the Job of an informer event. Anything else would be a
// transform that let an object through: it is reported, not skipped in
// silence.
func asCachedJob(obj any) (*cachedJob, bool) {
	job, ok := obj.(*cachedJob)
	if !ok {
		utilruntime.HandleError(unexpectedJobObject(obj))
	}
	return job, ok
}

// unexpectedJobObject is the error for anything but a Job reaching the Job
// informer's transform or handlers.
func unexpectedJobObject(obj any) error {
	return fmt.Errorf("job informer: unexpected object %T", obj)
}

// jobCache reads the Job informer's store, which holds cachedJobs, and
// evicts from it the records of stored successes (evict.go).
type jobCache struct {
	indexer cache.Indexer
}

// get returns the cached Job namespace/name, if there is one.
func (jc jobCache) get(namespace, name string) (*cachedJob, bool) {
	obj, exists, err := jc.indexer.GetByKey(cache.NewObjectName(namespace, name).String())
	if err != nil || !exists {
		return nil, false
	}
	job, ok := obj.(*cachedJob)
	return job, ok
}

// ofExecution returns the cached Jobs labelled for the Execution key,
// whoever controls them.
func (jc jobCache) ofExecution(key cache.ObjectName) []*cachedJob {
	objs, err := jc.indexer.ByIndex(executionIndex, key.String())
	if err != nil {
		// Only fails for an unknown index name, which is ours.
		utilruntime.HandleError(fmt.Errorf("listing jobs of execution %s: %w", key, err))
		return nil
	}
	jobs := make([]*cachedJob, 0, len(objs))
	for _, obj := range objs {
		if job, ok := obj.(*cachedJob); ok {
			jobs = append(jobs, job)
		}
	}
	return jobs
}

// executionIndex indexes Jobs by the key of their Execution, so the Jobs of
// one Execution are found without scanning all Jobs.
const executionIndex = "execution"

func indexByExecution(obj any) ([]string, error) {
	job, ok := obj.(*cachedJob)
	if !ok {
		return nil, nil
	}
	key, ok := executionOf(job)
	if !ok {
		return nil, nil
	}
	return []string{key.String()}, nil
}

// executionOf is the key of the Execution a Job of ours runs for, by its
// label; the owner reference says whether that Execution controls it.
func executionOf(job *cachedJob) (cache.ObjectName, bool) {
	name := job.executionName()
	return cache.NewObjectName(job.GetNamespace(), name), name != ""
}
