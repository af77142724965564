package controller

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/resourceversion"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
	"kubegene.io/kubegene/pkg/progress"
)

// MessageSucceeded is the message of a succeeded Execution, as users of
// the original kube-dag know it.
const MessageSucceeded = "execution has run successfully"

// Reasons of the conditions the controller sets.
const (
	reasonSucceeded = "Succeeded"
	reasonJobFailed = "JobFailed"
)

func terminal(p v1alpha1.ExecutionPhase) bool {
	return p == v1alpha1.PhaseSucceeded || p == v1alpha1.PhaseFailed
}

// phase derives the Execution's phase from its job counts by the one phase
// rule; a spec that does not build a graph cannot run, and has failed.
func (s *executionState) phase() v1alpha1.ExecutionPhase {
	if s.graph == nil || s.deadline != "" {
		return v1alpha1.PhaseFailed
	}
	if s.retryingCount() > 0 {
		return v1alpha1.PhaseRunning // retried jobs are about to run again
	}
	if s.continuesPastFailures() && s.failed > 0 && (s.active > 0 || s.readyCount > 0) {
		// Failures so far, and jobs that do not depend on them still run.
		return v1alpha1.PhaseRunning
	}
	c := progress.Counts{Jobs: s.graph.TotalJobs(), Running: s.active, Succeeded: s.succeeded, Failed: s.failed}
	return v1alpha1.ExecutionPhase(c.Phase())
}

// status is the compact status the state stands for. Timestamps are cut to
// seconds, as they are stored, so that a status read back compares equal.
// Conditions other than the controller's are kept from base.
func (s *executionState) status(base *v1alpha1.Execution, now time.Time) v1alpha1.ExecutionStatus {
	stamp := metav1.NewTime(now).Rfc3339Copy()
	phase := s.phase()
	if s.startedAt == nil && s.createdCount() > 0 {
		s.startedAt = &stamp
	}
	if s.finishedAt == nil && terminal(phase) {
		s.finishedAt = &stamp
	}
	st := v1alpha1.ExecutionStatus{
		Phase:              phase,
		StartedAt:          s.startedAt.DeepCopy(),
		FinishedAt:         s.finishedAt.DeepCopy(),
		ObservedGeneration: base.Generation,
		Attempts:           s.attempts,
	}
	if s.graph != nil {
		for t := range s.tasks {
			ts := &s.tasks[t]
			if ts.Created.Count() == 0 && ts.Retrying.Count() == 0 {
				continue
			}
			out := v1alpha1.TaskStatus{
				Name:      s.graph.TaskName(t),
				Created:   ts.Created.String(),
				Succeeded: ts.Succeeded.String(),
				Failed:    ts.Failed.String(),
				Retrying:  ts.Retrying.String(),
			}
			for i, m := range ts.Messages {
				out.Messages = append(out.Messages, v1alpha1.JobMessage{Index: int32(i), Message: m})
			}
			slices.SortFunc(out.Messages, func(a, b v1alpha1.JobMessage) int { return cmp.Compare(a.Index, b.Index) })
			st.Tasks = append(st.Tasks, out)
		}
	}

	for _, c := range base.Status.Conditions {
		if c.Type != v1alpha1.ConditionVerticesRendered { // rendered on read
			st.Conditions = append(st.Conditions, c)
		}
	}
	switch phase {
	case v1alpha1.PhaseSucceeded:
		st.Message = MessageSucceeded
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionComplete, Status: metav1.ConditionTrue, Reason: reasonSucceeded,
			Message: MessageSucceeded, ObservedGeneration: base.Generation, LastTransitionTime: stamp,
		})
	case v1alpha1.PhaseFailed:
		reason, message := s.failureSummary()
		st.Message = message
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{
			Type: v1alpha1.ConditionFailed, Status: metav1.ConditionTrue, Reason: reason,
			Message: message, ObservedGeneration: base.Generation, LastTransitionTime: stamp,
		})
	default:
		switch {
		case s.suspended:
			st.Message = fmt.Sprintf("suspended: no new job starts until spec.suspend is false; %d running", s.active)
		case s.failed > 0:
			st.Message = fmt.Sprintf("%d failed so far; the jobs that do not depend on a failed job go on", s.failed)
		}
	}
	s.setSuspendedCondition(&st, phase, base.Generation, stamp)
	s.setBlockedCondition(&st, phase, base.Generation, stamp)
	s.setWarningCondition(&st, base.Generation, stamp)
	return st
}

// failureSummary is the reason and message of a failed Execution.
func (s *executionState) failureSummary() (reason, message string) {
	switch {
	case s.deadline != "":
		return reasonDeadlineExceeded, s.deadline
	case s.continuesPastFailures() && s.failed > 0:
		return reasonJobFailed, s.failedJobsMessage()
	}
	return reasonJobFailed, s.failure
}

// setSuspendedCondition says whether spec.suspend holds new Jobs back;
// once it was said, the condition stays, False after a resume.
func (s *executionState) setSuspendedCondition(st *v1alpha1.ExecutionStatus, phase v1alpha1.ExecutionPhase, generation int64, stamp metav1.Time) {
	cond := metav1.Condition{Type: v1alpha1.ConditionSuspended, ObservedGeneration: generation, LastTransitionTime: stamp}
	switch {
	case s.suspended && !terminal(phase):
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, reasonSuspended, "spec.suspend is true: no new job starts; running jobs finish"
	case meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionSuspended) != nil:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reasonResumed, "new jobs start as their dependencies succeed"
		if terminal(phase) {
			cond.Message = "the execution has finished"
		}
	default:
		return
	}
	meta.SetStatusCondition(&st.Conditions, cond)
}

// statusEqual compares what the controller writes, ignoring what the
// server renders on read (vertices, the VerticesRendered condition) and
// nil versus empty lists, which the wire does not tell apart.
func statusEqual(a, b *v1alpha1.ExecutionStatus) bool {
	if a.Phase != b.Phase || a.Message != b.Message || a.ObservedGeneration != b.ObservedGeneration || a.Attempts != b.Attempts ||
		!timeEqual(a.StartedAt, b.StartedAt) || !timeEqual(a.FinishedAt, b.FinishedAt) {
		return false
	}
	if !slices.EqualFunc(a.Tasks, b.Tasks, func(x, y v1alpha1.TaskStatus) bool {
		return x.Name == y.Name && x.Created == y.Created && x.Succeeded == y.Succeeded && x.Failed == y.Failed && x.Retrying == y.Retrying &&
			slices.Equal(x.Messages, y.Messages)
	}) {
		return false
	}
	return slices.EqualFunc(ownConditions(a.Conditions), ownConditions(b.Conditions), func(x, y metav1.Condition) bool {
		return x.Type == y.Type && x.Status == y.Status && x.Reason == y.Reason && x.Message == y.Message &&
			x.ObservedGeneration == y.ObservedGeneration && x.LastTransitionTime.Unix() == y.LastTransitionTime.Unix()
	})
}

func ownConditions(cs []metav1.Condition) []metav1.Condition {
	return slices.DeleteFunc(slices.Clone(cs), func(c metav1.Condition) bool {
		return c.Type == v1alpha1.ConditionVerticesRendered
	})
}

func timeEqual(a, b *metav1.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Unix() == b.Unix()
}

// known is the newest Execution this controller knows of: the cache, or
// what it read from the server itself (a status write's answer, or the
// fresh read after a conflict) while the cache has not caught up with that
// yet. It is the base of the next status write, so that the write does not
// conflict with the controller's own previous one, and the spec that
// decisions (suspension) follow, so that a suspension learnt from the
// server holds also when the write that followed failed.
//
// The server stores Executions in etcd, so their resourceVersions may be
// compared. Should one not be well formed, generations decide: a read of
// a newer spec is newer, and of the same spec a read the cache does not
// show is taken as newer (its status most likely this controller's own
// write; if not, the write conflicts and is redone on a fresh read).
func (s *executionState) known(cached *v1alpha1.Execution) *v1alpha1.Execution {
	r := s.lastRead
	if r == nil || r.UID != cached.UID {
		return cached
	}
	if c, err := resourceversion.CompareResourceVersion(r.ResourceVersion, cached.ResourceVersion); err == nil {
		if c > 0 {
			return r
		}
		return cached
	}
	if r.Generation > cached.Generation || (r.Generation == cached.Generation && r.ResourceVersion != cached.ResourceVersion) {
		return r
	}
	return cached
}

// statusWait is how long a write of status should wait: zero if it is due
// now. A phase change is written at once; progress within a phase at most
// once per interval, as the Job controller batches its Pod updates, so that
// an Execution of thousands of short Jobs costs a few writes per second,
// not one per Job.
func (c *Controller) statusWait(s *executionState, stored *v1alpha1.Execution, status *v1alpha1.ExecutionStatus, now time.Time) time.Duration {
	if status.Phase != stored.Status.Phase || s.writtenAt.IsZero() {
		return 0
	}
	return max(0, s.writtenAt.Add(c.statusInterval).Sub(now))
}

// writeStatus writes status through the status subresource, on top of
// base. A conflict (someone else changed the Execution since) is retried
// once against a fresh read, keeping what that change brought (conditions
// of others, a suspension). It returns the status it replaced and the one
// it wrote: after a retry neither is the caller's, and the events of the
// transition must be those of what was stored.
func (c *Controller) writeStatus(ctx context.Context, s *executionState, base *v1alpha1.Execution, status v1alpha1.ExecutionStatus) (from, to *v1alpha1.ExecutionStatus, err error) {
	client := c.executions.ExecutionV1alpha1().Executions(base.Namespace)
	update := func(on *v1alpha1.Execution) (*v1alpha1.Execution, error) {
		// Not a deep copy of on: its spec is only read.
		obj := &v1alpha1.Execution{TypeMeta: on.TypeMeta, ObjectMeta: *on.ObjectMeta.DeepCopy(), Spec: on.Spec, Status: status}
		return client.UpdateStatus(ctx, obj, metav1.UpdateOptions{})
	}
	on := base
	updated, err := update(on)
	if apierrors.IsConflict(err) {
		var fresh *v1alpha1.Execution
		if fresh, err = client.Get(ctx, base.Name, metav1.GetOptions{}); err == nil {
			if fresh.UID != base.UID {
				return nil, nil, apierrors.NewNotFound(v1alpha1.Resource("executions"), base.Name)
			}
			if fresh.Status.Attempts != s.attempts {
				// Retried meanwhile: the next sync builds the state anew.
				return nil, nil, apierrors.NewConflict(v1alpha1.Resource("executions"), base.Name, fmt.Errorf("retried (attempt %d) while the status was written", attemptOf(fresh)))
			}
			s.lastRead = fresh
			s.suspended = suspended(fresh)
			status = s.status(fresh, c.now())
			on = fresh
			updated, err = update(on)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("updating status of execution %s/%s: %w", base.Namespace, base.Name, err)
	}
	s.lastRead = updated
	s.writtenAt = c.now()
	return &on.Status, &updated.Status, nil
}
