package controller

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/indexset"
)

// Reasons of the conditions and events of a steered run.
const (
	reasonRetried          = "Retried"
	reasonSuspended        = "Suspended"
	reasonResumed          = "Resumed"
	reasonDeadlineExceeded = "DeadlineExceeded"
)

// maxNamedFailures bounds the failed jobs a message names.
const maxNamedFailures = 3

func suspended(e *v1alpha1.Execution) bool {
	return e.Spec.Suspend != nil && *e.Spec.Suspend
}

// continuesPastFailures reports whether jobs independent of a failed job
// still run.
func (s *executionState) continuesPastFailures() bool {
	return s.policy == v1alpha1.ContinueIndependent
}

// stopped reports whether no new Job may start any more: the spec cannot
// run, the deadline passed, or a job failed under FailFast.
func (s *executionState) stopped() bool {
	return s.graph == nil || s.deadline != "" || (s.failure != "" && !s.continuesPastFailures())
}

// failedJobsMessage says which jobs failed, naming the first ones in spec
// order: the message of an Execution that ran everything it could.
func (s *executionState) failedJobsMessage() string {
	const after = "; every job that did not depend on a failed job has run"
	if s.failed == 1 {
		return s.failure + after
	}
	var names []string
	for t := range s.tasks {
		s.tasks[t].Failed.Each(func(i int) bool {
			names = append(names, s.graph.JobName(t, i))
			return len(names) < maxNamedFailures
		})
		if len(names) == maxNamedFailures {
			break
		}
	}
	msg := fmt.Sprintf("%d jobs failed: %s", s.failed, strings.Join(names, ", "))
	if more := s.failed - len(names); more > 0 {
		msg += fmt.Sprintf(" and %d more", more)
	}
	return msg + after
}

// enforceDeadline fails the Execution once spec.activeDeadlineSeconds have
// passed since it started, and deletes its running Jobs. Before that it
// returns how long is left, for a requeue.
func (c *Controller) enforceDeadline(ctx context.Context, e *v1alpha1.Execution, s *executionState) (time.Duration, error) {
	if e.Spec.ActiveDeadlineSeconds == nil || s.graph == nil || s.startedAt == nil || terminal(s.phase()) && s.deadline == "" {
		// No deadline, nothing started yet (the clock starts with the
		// first Job), or finished in time.
		return 0, nil
	}
	seconds := *e.Spec.ActiveDeadlineSeconds
	if left := s.startedAt.Add(time.Duration(seconds) * time.Second).Sub(c.now()); left > 0 {
		return left, nil
	}
	if s.deadline == "" {
		s.deadline = fmt.Sprintf("the execution ran longer than its active deadline of %d seconds: no new job starts and running jobs were deleted", seconds)
		c.recorder.Event(executionRef(e), corev1.EventTypeWarning, reasonDeadlineExceeded, s.deadline)
	}
	return 0, c.deleteRunningJobs(ctx, e, s)
}

// deleteRunningJobs deletes the Jobs of e that have not finished, with
// their pods. Their deletion comes back as events, which fail their jobs.
func (c *Controller) deleteRunningJobs(ctx context.Context, e *v1alpha1.Execution, s *executionState) error {
	var errs []error
	background := metav1.DeletePropagationBackground
	for t := range s.tasks {
		ts := &s.tasks[t]
		if ts.Active() == 0 {
			continue
		}
		ts.Created.Each(func(i int) bool {
			if ts.Finished(i) {
				return true
			}
			err := c.kube.BatchV1().Jobs(e.Namespace).Delete(ctx, s.graph.JobName(t, i), metav1.DeleteOptions{PropagationPolicy: &background})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting job %s/%s at the deadline: %w", e.Namespace, s.graph.JobName(t, i), err))
			}
			return true
		})
	}
	return utilerrors.NewAggregate(errs)
}

// expireFinished deletes a finished Execution, and through their owner
// references its Jobs, spec.ttlSecondsAfterFinished after it finished. It
// reports whether it deleted e; before its time it queues e for then. It works from the stored status alone, so it holds across
// restarts and leader changes.
func (c *Controller) expireFinished(ctx context.Context, key cache.ObjectName, e *v1alpha1.Execution) (bool, error) {
	ttl := e.Spec.TTLSecondsAfterFinished
	if ttl == nil || !terminal(e.Status.Phase) || e.Status.FinishedAt == nil || e.DeletionTimestamp != nil {
		return false, nil
	}
	if left := e.Status.FinishedAt.Add(time.Duration(*ttl) * time.Second).Sub(c.now()); left > 0 {
		c.queue.AddAfter(key, left)
		return false, nil
	}
	background := metav1.DeletePropagationBackground
	err := c.executions.ExecutionV1alpha1().Executions(e.Namespace).Delete(ctx, e.Name, metav1.DeleteOptions{
		// Not if it changed since (a retry makes it run again).
		Preconditions:     &metav1.Preconditions{UID: &e.UID, ResourceVersion: &e.ResourceVersion},
		PropagationPolicy: &background,
	})
	switch {
	case apierrors.IsConflict(err):
		return false, nil // changed since: the change's own sync decides
	case err != nil && !apierrors.IsNotFound(err):
		return false, fmt.Errorf("deleting execution %s %d seconds after it finished: %w", key, *ttl, err)
	}
	return true, nil
}

// retryingCount is the number of retried jobs whose failed Job is not gone
// yet.
func (s *executionState) retryingCount() int {
	n := 0
	for t := range s.tasks {
		n += s.tasks[t].Retrying.Count()
	}
	return n
}

// deleteRetriedJobs deletes the failed Jobs of retried jobs, so that they
// can be created again under their names. A Job found gone lets its job
// run again; the others follow when their deletion is observed.
func (c *Controller) deleteRetriedJobs(ctx context.Context, e *v1alpha1.Execution, s *executionState) error {
	var errs []error
	background := metav1.DeletePropagationBackground
	for t := range s.tasks {
		retrying := &s.tasks[t].Retrying
		for _, i := range members(*retrying) {
			name := s.graph.JobName(t, i)
			err := c.kube.BatchV1().Jobs(e.Namespace).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &background})
			switch {
			case apierrors.IsNotFound(err):
				if retrying.Remove(i) && s.graph.Ready(s, t, i) {
					s.pushReady(t, readyJob{index: i})
				}
			case err != nil:
				errs = append(errs, fmt.Errorf("deleting job %s/%s to retry it: %w", e.Namespace, name, err))
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

// members lists a set's indexes, so it can be changed while they are visited.
func members(set indexset.Set) []int {
	out := make([]int, 0, set.Count())
	set.Each(func(i int) bool {
		out = append(out, i)
		return true
	})
	return out
}
