package controller

import (
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
