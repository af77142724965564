package controller

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// Reasons of the JobsBlocked condition.
const (
	// reasonPermissionRevoked: the creator may no longer create Jobs.
	reasonPermissionRevoked = "PermissionRevoked"
	// reasonJobCreateRefused: kube-apiserver refused a Job (quota, a
	// webhook, an admission policy).
	reasonJobCreateRefused = "JobCreateRefused"
	// reasonPodCreateRefused: a Job exists but the Job controller cannot
	// create its pods (Pod Security, a pod quota).
	reasonPodCreateRefused = "PodCreateRefused"
	// reasonUnblocked: what blocked the Jobs is gone.
	reasonUnblocked = "JobsRunning"
)

// maxPodRefusals bounds the Jobs whose pod refusals are remembered; one is
// enough to say why, the count says how many more.
const maxPodRefusals = 1000

// blockage is why an Execution's Jobs cannot be created: the creator's
// permission is gone, or kube-apiserver refused a Job.
type blockage struct {
	reason  string
	job     string
	message string
}

// blockages are what keeps an Execution's Jobs from running; they are
// shown as the JobsBlocked condition and the status message, and clear
// once the obstacle is gone.
type blockages struct {
	// create: the last creation refused; cleared by the next one that works.
	create *blockage
	// pods: the FailedCreate messages of Jobs that could not create their
	// pods, by Job name, until the Job has pods, finishes or is gone.
	pods map[string]string
}

// createBackoff spaces out creation attempts after kube-apiserver refused
// one: every Job event syncs the Execution at once, and must not become
// another attempt each (a terminating namespace deletes thousands of Jobs).
type createBackoff struct {
	delay time.Duration
	next  time.Time
}

// Bounds of createBackoff's delay, which doubles with each refusal.
const (
	minCreateBackoff = time.Second
	maxCreateBackoff = maxRetryDelay
)

func (b *createBackoff) refused(now time.Time) {
	b.delay = min(max(2*b.delay, minCreateBackoff), maxCreateBackoff)
	b.next = now.Add(b.delay)
}

func (b *createBackoff) worked() { *b = createBackoff{} }

// wait is how long to wait before the next attempt.
func (b *createBackoff) wait(now time.Time) time.Duration {
	if b.next.IsZero() {
		return 0
	}
	return max(0, b.next.Sub(now))
}

// blockCreate records why Jobs cannot be created now.
func (s *executionState) blockCreate(b blockage) { s.blocked.create = &b }

// createWorked clears a creation blockage after a Job was created.
func (s *executionState) createWorked() { s.blocked.create = nil }

// blockPods records that the Job named job cannot create its pods.
func (s *executionState) blockPods(job, message string) {
	if s.blocked.pods == nil {
		s.blocked.pods = map[string]string{}
	}
	if _, ok := s.blocked.pods[job]; ok || len(s.blocked.pods) < maxPodRefusals {
		s.blocked.pods[job] = message
	}
	s.podRefusals.Store(int32(len(s.blocked.pods)))
}

// podsWorked forgets the pod refusal of a Job that has pods, has finished
// or is gone.
func (s *executionState) podsWorked(job string) {
	if _, ok := s.blocked.pods[job]; !ok {
		return
	}
	delete(s.blocked.pods, job)
	s.podRefusals.Store(int32(len(s.blocked.pods)))
}

// waitsForPods reports whether a Job of this Execution could not create
// its pods: only then is a Job's first pod worth an event.
func (s *executionState) waitsForPods() bool { return s.podRefusals.Load() > 0 }

// blockedBy is the reason and message of the JobsBlocked condition, or ""
// if nothing blocks the Execution's Jobs.
func (s *executionState) blockedBy() (reason, message string) {
	if b := s.blocked.create; b != nil {
		if b.reason == reasonPermissionRevoked {
			return b.reason, b.message
		}
		return b.reason, fmt.Sprintf("job %s could not be created: %s", b.job, b.message)
	}
	if len(s.blocked.pods) == 0 {
		return "", ""
	}
	// The first by name, so that the message does not change with map order.
	first := ""
	for job := range s.blocked.pods {
		if first == "" || job < first {
			first = job
		}
	}
	message = fmt.Sprintf("job %s cannot create its pods: %s", first, s.blocked.pods[first])
	if more := len(s.blocked.pods) - 1; more > 0 {
		message += fmt.Sprintf(" (and %d more jobs)", more)
	}
	return reasonPodCreateRefused, message
}

// setBlockedCondition says whether something keeps the Execution's Jobs
// from running; once it was said, the condition stays, False when cleared.
func (s *executionState) setBlockedCondition(st *v1alpha1.ExecutionStatus, phase v1alpha1.ExecutionPhase, generation int64, stamp metav1.Time) {
	cond := metav1.Condition{Type: v1alpha1.ConditionJobsBlocked, ObservedGeneration: generation, LastTransitionTime: stamp}
	reason, message := s.blockedBy()
	switch {
	case reason != "" && !terminal(phase):
		cond.Status, cond.Reason, cond.Message = metav1.ConditionTrue, reason, message
		if st.Message == "" {
			st.Message = message
		}
	case meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionJobsBlocked) != nil:
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, reasonUnblocked, "jobs and their pods are created"
		if terminal(phase) {
			cond.Message = "the execution has finished"
		}
	default:
		return
	}
	meta.SetStatusCondition(&st.Conditions, cond)
}
