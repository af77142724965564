package controller

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

const (
	// maxCreatesPerSync bounds the Jobs one sync creates, so that the
	// status of a large Execution is written regularly while it starts.
	maxCreatesPerSync = 500
	// maxCreateBatch bounds the concurrent creations of one Execution
	// (see slowStart).
	maxCreateBatch = 256
)

// startReadyAsCreator creates ready Jobs if the Execution's creator may
// still create Jobs in its namespace; if not, the Execution says so and
// the permission is checked again when its answer expires.
func (c *Controller) startReadyAsCreator(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution, s *executionState) error {
	allowed, why, recheck, err := c.permissions.allowed(ctx, key, e)
	switch {
	case err != nil:
		return err
	case !allowed:
		s.blockCreate(blockage{reason: reasonPermissionRevoked, message: why})
		c.queue.AddAfter(key, recheck)
		return nil
	}
	if b := s.blocked.create; b != nil && b.reason == reasonPermissionRevoked {
		s.createWorked()
	}
	if wait := s.backoff.wait(c.now()); wait > 0 {
		c.queue.AddAfter(key, wait)
		return nil
	}
	return c.startReady(ctx, key, e, s)
}

// startReady creates ready Jobs within the parallelism limits. Jobs whose
// creation failed in a way worth retrying go back to the front of their
// queue and the error is returned, so the Execution is retried with
// backoff.
func (c *Controller) startReady(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution, s *executionState) error {
	want := min(s.readyCount, s.freeSlots(e), maxCreatesPerSync)
	todo := s.takeReady(e, c.limiter.acquire(key, want))
	var retry []pendingJob
	var errs []error
	for start := 0; start < len(todo); {
		batch := todo[start:min(start+s.createBatch.next(maxCreateBatch), len(todo))]
		start += len(batch)
		if s.stopped() {
			// A job failed meanwhile: nothing new starts.
			retry = append(retry, batch...)
			retry = append(retry, todo[start:]...)
			break
		}
		results := make([]error, len(batch))
		created := make([]time.Time, len(batch))
		warned := make([]func() []string, len(batch))
		jobs := make([]*batchv1.Job, len(batch))
		createCtxs := make([]context.Context, len(batch))
		for k, p := range batch {
			jobs[k] = newJob(e, s.graph, p.task, p.index)
			createCtxs[k], warned[k] = WithWarnings(ctx)
		}
		concurrently(len(batch), func(k int) {
			_, results[k] = c.kube.BatchV1().Jobs(e.Namespace).Create(createCtxs[k], jobs[k], metav1.CreateOptions{})
			created[k] = c.now()
		})
		for k, p := range batch {
			if texts := warned[k](); len(texts) > 0 {
				c.recordWarnings(e, s, s.graph.JobName(p.task, p.index), texts)
			}
		}

		failed := false
		for k, p := range batch {
			if err := c.recordCreate(ctx, e, s, p, results[k], created[k]); err != nil {
				retry = append(retry, p)
				errs = append(errs, err)
				failed = true
			}
		}
		if failed {
			s.backoff.refused(c.now())
			s.createBatch.failed()
			retry = append(retry, todo[start:]...)
			break
		}
		s.backoff.worked()
		s.createBatch.worked(maxCreateBatch)
	}
	s.returnReady(retry)
	return utilerrors.NewAggregate(errs)
}

// recordCreate records the result, at time at, of creating the Job of p.
// It returns an error if the creation should be retried.
func (c *Controller) recordCreate(ctx context.Context, e *v1alpha1.Execution, s *executionState, p pendingJob, err error, at time.Time) error {
	name := s.graph.JobName(p.task, p.index)
	switch {
	case err == nil:
		s.markCreated(p.task, p.index)
		s.createWorked()
		jobsCreated.Inc()
		if !p.since.IsZero() {
			dependencyToStart.WithLabelValues(string(p.via)).Observe(at.Sub(p.since).Seconds())
			klog.FromContext(ctx).V(4).Info("Created job", "job", klog.KRef(e.Namespace, name), "dependency", p.via, "sinceReady", at.Sub(p.since))
		}
		if s.jobEvents.AllowN(at, 1) {
			c.recorder.Eventf(executionRef(e), corev1.EventTypeNormal, EventJobCreated, "Created job %s", name)
		}
		return nil
	case apierrors.IsAlreadyExists(err):
		return c.adoptOrRefuse(ctx, e, s, p, name)
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		// Retrying cannot help: the vertex, and so the Execution, fails.
		msg := fmt.Sprintf("creating job %s: %v", name, err)
		s.markFailed(p.task, p.index, failureMessages{vertex: msg, execution: msg})
		return nil
	default:
		// Refused by policy (a quota, a webhook) or not reachable: retried
		// with backoff, and shown on the Execution until it works.
		s.blockCreate(blockage{reason: reasonJobCreateRefused, job: name, message: err.Error()})
		c.recorder.Eventf(executionRef(e), corev1.EventTypeWarning, EventJobCreateFailed, "Error creating job %s: %v", name, err)
		return fmt.Errorf("creating job %s/%s: %w", e.Namespace, name, err)
	}
}

// adoptOrRefuse handles a Job name that is taken. A Job this Execution
// controls was created before, e.g. by a previous instance whose write of
// the status was lost: it is adopted and its outcome recorded. The Job of
// a deleted Execution of the same name is waited for: the garbage collector
// removes it. Any other Job is not ours to run or to wait for: the vertex
// fails.
func (c *Controller) adoptOrRefuse(ctx context.Context, e *v1alpha1.Execution, s *executionState, p pendingJob, name string) error {
	job, ok := c.jobs.get(e.Namespace, name)
	if !ok {
		// Not in the cache yet, or without our labels.
		found, err := c.kube.BatchV1().Jobs(e.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			// Including NotFound: deleted since; the next attempt creates it.
			return fmt.Errorf("reading existing job %s/%s: %w", e.Namespace, name, err)
		}
		job = recordOf(found)
	}
	if uid := job.ownerUID(); uid != e.UID {
		if uid != "" && (job.deletionTimestamp != nil || job.ownerName() == e.Name) {
			// The Job of an earlier Execution of the same name (deleted,
			// since names are unique), which the garbage collector is
			// removing: wait for it, with backoff, then create ours.
			c.recorder.Eventf(executionRef(e), corev1.EventTypeNormal, EventJobCreateFailed,
				"Waiting for job %s of a deleted execution of the same name to be garbage-collected", name)
			return fmt.Errorf("job %s/%s still belongs to a deleted execution %s (uid %s): waiting for its deletion", e.Namespace, name, e.Name, uid)
		}
		msg := fmt.Sprintf("job %s exists and is not owned by execution %s", name, e.Name)
		s.markFailed(p.task, p.index, failureMessages{vertex: msg, execution: msg})
		return nil
	}
	s.markCreated(p.task, p.index)
	c.recorder.Eventf(executionRef(e), corev1.EventTypeNormal, EventJobAdopted, "Adopted existing job %s", name)
	// Record what the adopted Job has already done.
	s.apply(job.observation(c.now()))
	return nil
}
