package controller

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

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

// known is what the controller read from the server itself while the
// cache has not caught up with it, and the cache otherwise: the base of
// status writes (so that a write does not conflict with the controller's
// previous one) and the spec of its decisions (a suspension).
func TestKnownPrefersAReadTheCacheDoesNotShowYet(t *testing.T) {
	cached := newExecution("exec-known", task("a", 1))
	cached.Generation, cached.ResourceVersion = 2, "20"
	read := func(uid string, generation int64, resourceVersion string) *v1alpha1.Execution {
		e := cached.DeepCopy()
		e.UID = types.UID(uid)
		e.Generation, e.ResourceVersion = generation, resourceVersion
		return e
	}
	for _, tc := range []struct {
		name     string
		lastRead *v1alpha1.Execution
		want     string // "read" or "cached"
	}{
		{"nothing read", nil, "cached"},
		{"the last write, not in the cache yet", read("exec-known-uid", 2, "21"), "read"},
		{"the cache caught up with the last write", read("exec-known-uid", 2, "20"), "cached"},
		{"the cache moved past the last write (a label set)", read("exec-known-uid", 2, "19"), "cached"},
		{"read a newer generation", read("exec-known-uid", 3, "25"), "read"},
		{"the cache moved on to a newer generation", read("exec-known-uid", 1, "15"), "cached"},
		{"read an Execution of the same name deleted since", read("old-uid", 5, "30"), "cached"},
		// resourceVersions not from etcd: generations decide.
		{"not comparable, a newer generation read", read("exec-known-uid", 3, "x"), "read"},
		{"not comparable, the same generation read", read("exec-known-uid", 2, "x"), "read"},
		{"not comparable, an older generation read", read("exec-known-uid", 1, "x"), "cached"},
	} {
		s := newExecutionState(cached.UID)
		s.lastRead = tc.lastRead
		got, want := s.known(cached), cached
		if tc.want == "read" {
			want = tc.lastRead
		}
		if got != want {
			t.Errorf("%s: known is generation %d at %s of %s, want the %s one", tc.name, got.Generation, got.ResourceVersion, got.UID, tc.want)
		}
	}
}

// After a status write conflicted and its retry failed, the fresh read of
// the retry is the base of the next write, which therefore does not
// conflict again.
func TestFreshReadIsTheNextWriteBase(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-base", task("a", 1))
	f := newFixture(t, nil, e)
	gvr := v1alpha1.SchemeGroupVersion.WithResource("executions")
	var statusUpdates atomic.Int32
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() == "status" && statusUpdates.Add(1) == 2 {
			return true, nil, apierrors.NewServiceUnavailable("the retry fails")
		}
		return false, nil, nil
	})
	// Someone else's status write gets in before the controller's.
	others := e.DeepCopy()
	others.ResourceVersion = "50"
	others.Status.Conditions = []metav1.Condition{{Type: "Audited", Status: metav1.ConditionTrue, Reason: "Checked", LastTransitionTime: metav1.Now()}}
	if err := f.exec.Tracker().Update(gvr, others, testNamespace); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	s := f.ctrl.stateFor(cache.NewObjectName(testNamespace, e.Name), e)
	status := s.status(s.known(e), f.ctrl.now())
	if _, _, err := f.ctrl.writeStatus(ctx, s, s.known(e), status); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("first write: %v, want the retry's error", err)
	}
	if got := s.known(e); got.ResourceVersion != "50" {
		t.Fatalf("after the failed retry, known is at resourceVersion %q, want the fresh read's %q", got.ResourceVersion, "50")
	}

	base := s.known(e)
	if _, to, err := f.ctrl.writeStatus(ctx, s, base, s.status(base, f.ctrl.now())); err != nil {
		t.Fatalf("second write: %v", err)
	} else if c := meta.FindStatusCondition(to.Conditions, "Audited"); c == nil {
		t.Errorf("second write dropped the other client's condition: %+v", to.Conditions)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conflicts != 1 {
		t.Errorf("%d conflicts, want 1: the second write should be based on the fresh read", f.conflicts)
	}
	if n := statusUpdates.Load(); n != 3 {
		t.Errorf("%d status updates, want 3 (conflict, failed retry, second write)", n)
	}
}

// A status write that conflicts with someone else's change is redone on
// top of that change: a condition another client set is kept. The other
// client's write lands while the controller's is on its way, so the cache
// cannot have shown it.
func TestStatusWriteKeepsOthersConditions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-others", task("a", 2)))
	f.ctrl.statusInterval = time.Millisecond
	gvr := v1alpha1.SchemeGroupVersion.WithResource("executions")
	audited := metav1.Condition{Type: "Audited", Status: metav1.ConditionTrue, Reason: "Checked", LastTransitionTime: metav1.Now()}
	var once sync.Once
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		written := a.(clienttesting.UpdateAction).GetObject().(*v1alpha1.Execution)
		if a.GetSubresource() != "status" || written.Status.Phase != v1alpha1.PhaseSucceeded {
			return false, nil, nil
		}
		var err error
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			var obj runtime.Object
			if obj, err = f.exec.Tracker().Get(gvr, testNamespace, "exec-others"); err != nil {
				return
			}
			other := obj.(*v1alpha1.Execution).DeepCopy()
			other.Status.Conditions = append(other.Status.Conditions, audited)
			f.rv++
			other.ResourceVersion = strconv.Itoa(100 + f.rv)
			err = f.exec.Tracker().Update(gvr, other, testNamespace)
		})
		return err != nil, nil, err
	})
	f.run()

	f.waitCreated(2)
	f.waitStatus("exec-others", "phase Running", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseRunning })
	f.succeed("exec-others.a.0", "exec-others.a.1")
	e := f.waitStatus("exec-others", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
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
