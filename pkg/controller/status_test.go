package controller

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// A conflicting status write (a stale cache) is retried against a fresh
// read at once, not left to the queue's backoff.
func TestStatusConflictIsRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-conflict", task("a", 1)))
	var conflicts, gets atomic.Int32
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && conflicts.Add(1) == 1 {
			return true, nil, apierrors.NewConflict(v1alpha1.Resource("executions"), "exec-conflict", nil)
		}
		return false, nil, nil
	})
	f.exec.PrependReactor("get", "executions", func(clienttesting.Action) (bool, runtime.Object, error) {
		gets.Add(1)
		return false, nil, nil
	})
	f.run()

	f.waitTask("exec-conflict", "a", "0", "", "")
	if conflicts.Load() < 2 || gets.Load() == 0 {
		t.Errorf("status updates = %d, gets = %d; want a conflict, a fresh get and a second update", conflicts.Load(), gets.Load())
	}
}

// Progress within a phase is written at most once per status interval, a
// change of phase at once: here the interval is an hour, so the only
// writes are Running and Succeeded, the last with the full progress.
func TestStatusWritesAreThrottled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-throttle", task("a", 3), task("b", 1, whole("a"))))
	f.ctrl.statusInterval = time.Hour
	f.run()

	f.waitCreated(3)
	f.waitStatus("exec-throttle", "phase Running", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseRunning })
	f.succeed("exec-throttle.a.0", "exec-throttle.a.1", "exec-throttle.a.2")
	f.waitCreated(4)
	f.succeed("exec-throttle.b.0")
	e := f.waitStatus("exec-throttle", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })

	var phases []v1alpha1.ExecutionPhase
	for _, st := range f.writtenStatuses() {
		phases = append(phases, st.Phase)
	}
	if !slices.Equal(phases, []v1alpha1.ExecutionPhase{v1alpha1.PhaseRunning, v1alpha1.PhaseSucceeded}) {
		t.Errorf("phases of the status writes = %v, want [Running Succeeded]", phases)
	}
	if a, b := taskStatus(&e.Status, "a"), taskStatus(&e.Status, "b"); a.Succeeded != "0-2" || b.Succeeded != "0" {
		t.Errorf("final progress a=%+v b=%+v, want every job succeeded", a, b)
	}
}

// The base of a status write is the Execution the last write returned
// while the cache has not caught up with it, so that the write does not
// conflict with the controller's own previous one.
func TestStoredPrefersLastWriteOverLaggingCache(t *testing.T) {
	cached := newExecution("exec-lag", task("a", 1))
	s := newExecutionState(cached.UID)
	if got := s.stored(cached); got != cached {
		t.Fatalf("before any write: stored = %v, want the cached object", got.ResourceVersion)
	}
	written := cached.DeepCopy()
	written.ResourceVersion = "2"
	written.Status.Phase = v1alpha1.PhaseRunning
	s.lastWritten = written
	if got := s.stored(cached); got != written {
		t.Errorf("cache at resourceVersion 1, last write at 2: stored = %q, want the last write", got.ResourceVersion)
	}
	caughtUp := written.DeepCopy()
	if got := s.stored(caughtUp); got != caughtUp {
		t.Errorf("cache caught up: stored = %q, want the cached object", got.ResourceVersion)
	}
}

// The spec decisions (suspension) use what the controller read from the
// server itself while the cache shows an older generation of the same
// Execution, and the cache otherwise.
func TestNewestPrefersANewerGenerationRead(t *testing.T) {
	cached := newExecution("exec-gen", task("a", 1))
	cached.Generation = 2
	read := func(uid string, generation int64) *v1alpha1.Execution {
		e := cached.DeepCopy()
		e.UID = types.UID(uid)
		e.Generation = generation
		return e
	}
	for _, tc := range []struct {
		name     string
		lastRead *v1alpha1.Execution
		want     string // "read" or "cached"
	}{
		{"nothing read", nil, "cached"},
		{"read a newer generation", read("exec-gen-uid", 3), "read"},
		{"read the cached generation", read("exec-gen-uid", 2), "cached"},
		{"the cache caught up and moved on", read("exec-gen-uid", 1), "cached"},
		{"read an Execution of the same name deleted since", read("old-uid", 5), "cached"},
	} {
		s := newExecutionState(cached.UID)
		s.lastRead = tc.lastRead
		got, want := s.newest(cached), cached
		if tc.want == "read" {
			want = tc.lastRead
		}
		if got != want {
			t.Errorf("%s: newest is generation %d of %s, want the %s one", tc.name, got.Generation, got.UID, tc.want)
		}
	}
}

// A status write that conflicts with someone else's change is redone on
// top of that change: a condition another client set is kept.
func TestStatusWriteKeepsOthersConditions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-others", task("a", 2)))
	f.ctrl.statusInterval = time.Millisecond
	f.run()

	f.waitCreated(2)
	e := f.waitStatus("exec-others", "phase Running", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseRunning })
	audited := metav1.Condition{Type: "Audited", Status: metav1.ConditionTrue, Reason: "Checked", LastTransitionTime: metav1.Now()}
	e.Status.Conditions = append(e.Status.Conditions, audited)
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).UpdateStatus(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	f.succeed("exec-others.a.0", "exec-others.a.1")
	e = f.waitStatus("exec-others", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	if meta.FindStatusCondition(e.Status.Conditions, "Audited") == nil || meta.FindStatusCondition(e.Status.Conditions, v1alpha1.ConditionComplete) == nil {
		t.Errorf("conditions = %+v, want the other client's Audited and the controller's Complete", e.Status.Conditions)
	}
	f.mu.Lock()
	conflicts := f.conflicts
	f.mu.Unlock()
	if conflicts == 0 {
		t.Errorf("no status write conflicted with the other client's change; the test did not exercise the retry")
	}
}

func TestStatusEqualIgnoresRenderedFields(t *testing.T) {
	now := metav1.Now()
	a := v1alpha1.ExecutionStatus{
		Phase: v1alpha1.PhaseRunning, StartedAt: ptrTime(now.Rfc3339Copy()),
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1"}},
	}
	b := *a.DeepCopy()
	b.StartedAt = &now // sub-second precision is not stored
	b.Vertices = map[string]v1alpha1.Vertex{"x.a.0": {ID: "x.a.0"}}
	b.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionVerticesRendered, Status: metav1.ConditionFalse}}
	b.Tasks[0].Messages = []v1alpha1.JobMessage{}
	if !statusEqual(&a, &b) {
		t.Errorf("statuses differ only in rendered fields and precision, want equal")
	}
	b.Tasks[0].Succeeded = "0"
	if statusEqual(&a, &b) {
		t.Errorf("statuses with different succeeded sets compare equal")
	}
}

func ptrTime(t metav1.Time) *metav1.Time { return &t }
