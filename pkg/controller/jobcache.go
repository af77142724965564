package controller

import (
	"fmt"
	"unique"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
)

// cachedJob is what the controller keeps of one of its Jobs: who it is,
// whose it is, and how far it got. The Job informer turns every Job it
// receives into one (see cacheJob), so the cache costs a few hundred bytes
// per Job instead of a batchv1.Job's few kilobytes: with jobCleanup Never
// an Execution of 100,000 jobs leaves 100,000 Jobs in the cluster, and the
// cache holds every one of them.
type cachedJob struct {
	// ObjectMeta has only the name, namespace, UID, resourceVersion (to
	// tell a relist's unchanged Jobs from updates) and deletion timestamp:
	// the cache and its key function read a Job through metav1.Object.
	metav1.ObjectMeta

	// execution is the name of the Execution in its LabelExecution label.
	execution string
	// attempt is the Execution attempt the Job was created for.
	attempt int32
	// ownerUID and ownerName identify its controlling Execution, if an
	// Execution controls it.
	ownerUID  types.UID
	ownerName string

	outcome jobOutcome
	// reason and message are those of a failed Job's Failed condition.
	reason, message string
	// hasPods: the Job has active pods.
	hasPods bool
}

// GetObjectKind implements runtime.Object: a cachedJob is not serialized.
func (j *cachedJob) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (j *cachedJob) DeepCopyObject() runtime.Object {
	out := *j
	j.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	return &out
}

// recordOf returns what the controller keeps of job.
func recordOf(job *batchv1.Job) *cachedJob {
	outcome, reason, message := outcomeOf(job)
	r := &cachedJob{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name, Namespace: intern(job.Namespace), UID: job.UID, ResourceVersion: job.ResourceVersion,
			DeletionTimestamp: job.DeletionTimestamp,
		},
		execution: intern(job.Labels[LabelExecution]),
		attempt:   jobAttempt(job),
		outcome:   outcome,
		reason:    reason,
		message:   message,
		hasPods:   job.Status.Active > 0,
	}
	if ref := controllerOf(job); ref != nil {
		r.ownerUID, r.ownerName = types.UID(intern(string(ref.UID))), intern(ref.Name)
	}
	return r
}

// intern returns the one copy of s kept for all the Jobs that have it: the
// namespace, Execution name and UID are the same for all Jobs of an
// Execution, and each decoded Job brings its own copies.
func intern(s string) string { return unique.Make(s).Value() }

// cacheJob is the Job informer's transform: it stores a cachedJob for each
// Job. It is idempotent, as transforms must be.
func cacheJob(obj any) (any, error) {
	switch obj := obj.(type) {
	case *batchv1.Job:
		return recordOf(obj), nil
	case *cachedJob:
		return obj, nil
	default:
		// A DeletedFinalStateUnknown carries an object transformed already.
		return obj, nil
	}
}

// jobCache reads the Job informer's store, which holds cachedJobs.
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
	return cache.NewObjectName(job.Namespace, job.execution), job.execution != ""
}
