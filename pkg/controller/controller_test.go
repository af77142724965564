package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// The seed's exec-whole: a.0 and a.1 start first, b.* only after both
// succeeded; the final status is exactly what kube-dag users know.
func TestWholeDependency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-whole", task("a", 2), task("b", 2, whole("a"))))
	f.run()

	assertSameSet(t, "first jobs", f.waitCreated(2), "exec-whole.a.0", "exec-whole.a.1")
	running := f.waitTask("exec-whole", "a", "0-1", "", "")
	if running.Status.Phase != v1alpha1.PhaseRunning || running.Status.StartedAt == nil {
		t.Fatalf("status while running = %+v, want phase Running and startedAt set", running.Status)
	}

	f.succeed("exec-whole.a.0")
	f.waitTask("exec-whole", "a", "0-1", "0", "")
	if got := f.created(); len(got) != 2 {
		t.Fatalf("jobs created after only a.0 succeeded: %v", got)
	}

	f.succeed("exec-whole.a.1")
	assertSameSet(t, "jobs created after a", f.waitCreated(4)[2:], "exec-whole.b.0", "exec-whole.b.1")

	f.succeed("exec-whole.b.0", "exec-whole.b.1")
	e := f.waitStatus("exec-whole", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	st := e.Status
	if st.Message != "execution has run successfully" {
		t.Errorf("message = %q, want %q", st.Message, "execution has run successfully")
	}
	if st.StartedAt == nil || st.FinishedAt == nil || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("startedAt = %v, finishedAt = %v, want both set, in order", st.StartedAt, st.FinishedAt)
	}
	wantTasks := []v1alpha1.TaskStatus{
		{Name: "a", Created: "0-1", Succeeded: "0-1"},
		{Name: "b", Created: "0-1", Succeeded: "0-1"},
	}
	if !slices.EqualFunc(st.Tasks, wantTasks, func(a, b v1alpha1.TaskStatus) bool {
		return a.Name == b.Name && a.Created == b.Created && a.Succeeded == b.Succeeded && a.Failed == b.Failed && len(a.Messages) == 0
	}) {
		t.Errorf("tasks = %+v, want %+v", st.Tasks, wantTasks)
	}
	if st.ObservedGeneration != 1 || st.Vertices != nil {
		t.Errorf("observedGeneration = %d, vertices = %v; want 1 and none stored", st.ObservedGeneration, st.Vertices)
	}
	if len(st.Conditions) != 1 || st.Conditions[0].Type != v1alpha1.ConditionComplete || st.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("conditions = %+v, want Complete=True only", st.Conditions)
	}
	f.waitEvent("Normal ExecutionSucceeded execution has run successfully")
	for _, j := range []string{"a.0", "a.1", "b.0", "b.1"} {
		if !f.hasEvent("Normal JobCreated Created job exec-whole." + j) {
			t.Errorf("no JobCreated event for exec-whole.%s", j)
		}
	}
	if got := f.created(); len(got) != 4 {
		t.Errorf("jobs created = %v, want each job once", got)
	}
	// Finished and written: the in-memory state is released.
	f.waitFor("state released", func() bool { return f.states() == 0 })
	if n := f.countEvents("Normal ExecutionSucceeded"); n != 1 {
		t.Errorf("%d ExecutionSucceeded events, want 1", n)
	}
	// Status is written only when it changes.
	written := f.writtenStatuses()
	for i := 1; i < len(written); i++ {
		if statusEqual(&written[i-1], &written[i]) {
			t.Errorf("status write %d repeats the previous one: %+v", i, written[i])
		}
	}
	if last := written[len(written)-1]; !statusEqual(&last, &st) {
		t.Errorf("last status written = %+v, stored = %+v", last, st)
	}
}

// The seed's exec-iterate: b.i starts right after a.i, not after all of a.
func TestIterateDependency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-iterate", task("a", 2), task("b", 2, iterate("a"))))
	f.run()

	assertSameSet(t, "first jobs", f.waitCreated(2), "exec-iterate.a.0", "exec-iterate.a.1")
	f.succeed("exec-iterate.a.1")
	if got := f.waitCreated(3); got[2] != "exec-iterate.b.1" {
		t.Fatalf("job created after a.1 = %s, want exec-iterate.b.1", got[2])
	}
	f.waitTask("exec-iterate", "b", "1", "", "")
	f.succeed("exec-iterate.a.0")
	if got := f.waitCreated(4); got[3] != "exec-iterate.b.0" {
		t.Fatalf("job created after a.0 = %s, want exec-iterate.b.0", got[3])
	}
	f.succeed("exec-iterate.b.0", "exec-iterate.b.1")
	f.waitStatus("exec-iterate", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool {
		return s.Phase == v1alpha1.PhaseSucceeded && s.Message == MessageSucceeded
	})
}

// a → b, a → c, (b, c) → d: d waits for both branches.
func TestDiamond(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("diamond",
		task("a", 1), task("b", 1, whole("a")), task("c", 1, whole("a")), task("d", 1, whole("b"), whole("c"))))
	f.run()

	f.waitCreated(1)
	f.succeed("diamond.a.0")
	assertSameSet(t, "jobs after a", f.waitCreated(3)[1:], "diamond.b.0", "diamond.c.0")
	f.succeed("diamond.b.0")
	f.waitTask("diamond", "b", "0", "0", "")
	if got := f.created(); len(got) != 3 {
		t.Fatalf("d created before c succeeded: %v", got)
	}
	f.succeed("diamond.c.0")
	if got := f.waitCreated(4); got[3] != "diamond.d.0" {
		t.Fatalf("last job = %s, want diamond.d.0", got[3])
	}
	f.succeed("diamond.d.0")
	f.waitStatus("diamond", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
}

// c.i waits for a.i (iterate) and for all of b (whole).
func TestMultipleDependencies(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("multi",
		task("a", 2), task("b", 1), task("c", 2, iterate("a"), whole("b"))))
	f.run()

	assertSameSet(t, "roots", f.waitCreated(3), "multi.a.0", "multi.a.1", "multi.b.0")
	f.succeed("multi.a.0")
	f.waitTask("multi", "a", "0-1", "0", "")
	if got := f.created(); len(got) != 3 {
		t.Fatalf("c created before b succeeded: %v", got)
	}
	f.succeed("multi.b.0")
	if got := f.waitCreated(4); got[3] != "multi.c.0" {
		t.Fatalf("job created after b = %s, want multi.c.0", got[3])
	}
	f.waitTask("multi", "c", "0", "", "")
	f.succeed("multi.a.1")
	if got := f.waitCreated(5); got[4] != "multi.c.1" {
		t.Fatalf("job created after a.1 = %s, want multi.c.1", got[4])
	}
}

// spec.parallelism caps the active Jobs of the whole Execution.
func TestExecutionParallelism(t *testing.T) {
	t.Parallel()
	e := newExecution("par", task("a", 5))
	e.Spec.Parallelism = ptr.To[int64](2)
	f := newFixture(t, nil, e)
	f.run()

	want := []string{"par.a.0", "par.a.1"}
	if got := f.waitCreated(2); !slices.Equal(got, want) {
		t.Fatalf("first jobs = %v, want %v", got, want)
	}
	f.waitTask("par", "a", "0-1", "", "")
	if got := f.created(); len(got) != 2 {
		t.Fatalf("more than 2 jobs active: %v", got)
	}
	f.succeed("par.a.0")
	if got := f.waitCreated(3); got[2] != "par.a.2" {
		t.Fatalf("job after a.0 = %s, want par.a.2", got[2])
	}
	f.waitTask("par", "a", "0-2", "0", "")
	f.succeed("par.a.1", "par.a.2")
	// Created together, concurrently.
	assertSameSet(t, "last jobs", f.waitCreated(5)[3:], "par.a.3", "par.a.4")
}

// A task's parallelism caps its own Jobs only.
func TestTaskParallelism(t *testing.T) {
	t.Parallel()
	a := task("a", 3)
	a.Parallelism = ptr.To[int64](1)
	f := newFixture(t, nil, newExecution("taskpar", a, task("b", 3)))
	f.run()

	assertSameSet(t, "first jobs", f.waitCreated(4), "taskpar.a.0", "taskpar.b.0", "taskpar.b.1", "taskpar.b.2")
	f.waitTask("taskpar", "a", "0", "", "")
	f.succeed("taskpar.a.0")
	if got := f.waitCreated(5); got[4] != "taskpar.a.1" {
		t.Fatalf("job after a.0 = %s, want taskpar.a.1", got[4])
	}
	f.waitTask("taskpar", "a", "0-1", "0", "")
	if got := f.created(); len(got) != 5 {
		t.Fatalf("task parallelism exceeded: %v", got)
	}
}

// A failed Job fails the Execution, which names it, and nothing new starts.
func TestJobFailureFailsExecution(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-fail", task("a", 2), task("b", 1, whole("a"))))
	f.run()

	f.waitCreated(2)
	f.finish("exec-fail.a.0", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	e := f.waitStatus("exec-fail", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	st := e.Status
	if want := "job exec-fail.a.0 failed: BackoffLimitExceeded"; st.Message != want {
		t.Errorf("message = %q, want %q", st.Message, want)
	}
	a := taskStatus(&st, "a")
	wantMessages := []v1alpha1.JobMessage{{Index: 0, Message: "Job has reached the specified backoff limit"}}
	if a.Created != "0-1" || a.Failed != "0" || a.Succeeded != "" || !slices.Equal(a.Messages, wantMessages) {
		t.Errorf("task a = %+v, want created 0-1, failed 0, messages %v", a, wantMessages)
	}
	if st.FinishedAt == nil || len(st.Conditions) != 1 || st.Conditions[0].Type != v1alpha1.ConditionFailed ||
		st.Conditions[0].Status != metav1.ConditionTrue {
		t.Errorf("finishedAt = %v, conditions = %+v; want set, Failed=True", st.FinishedAt, st.Conditions)
	}
	f.waitEvent("Warning JobFailed Job exec-fail.a.0 failed")
	f.waitEvent("Warning ExecutionFailed job exec-fail.a.0 failed: BackoffLimitExceeded")

	// The other job still reports, but b never starts.
	f.succeed("exec-fail.a.1")
	e = f.waitTask("exec-fail", "a", "0-1", "1", "0")
	if e.Status.Phase != v1alpha1.PhaseFailed {
		t.Errorf("phase = %s after a.1 succeeded, want Failed", e.Status.Phase)
	}
	if got := f.created(); len(got) != 2 {
		t.Errorf("jobs created after the failure: %v", got)
	}
}

// A Job of ours that exists already (created before a lost response or a
// crash) is adopted, not created twice, and its outcome counts.
func TestAdoptsOwnedJob(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-adopt", task("a", 1), task("b", 1, whole("a")))
	f := newFixture(t, nil, e)
	// The Job appears in the cluster at the moment of creation, behind the
	// controller's cache: creation says AlreadyExists.
	existing := ownedJob(t, e, 0, 0, batchv1.JobComplete)
	f.kube.PrependReactor("create", "jobs", func(a clienttesting.Action) (bool, runtime.Object, error) {
		job := a.(clienttesting.CreateAction).GetObject().(*batchv1.Job)
		if job.Name != existing.Name {
			return false, nil, nil
		}
		f.recordAttempt(job.Name) // this reactor runs before the fixture's
		if err := f.kube.Tracker().Add(existing); err != nil {
			t.Error(err)
		}
		return true, nil, apierrors.NewAlreadyExists(batchv1.Resource("jobs"), job.Name)
	})
	f.run()

	// a.0 is adopted as succeeded, so b.0 starts.
	if got := f.waitCreated(2); !slices.Equal(got, []string{"exec-adopt.a.0", "exec-adopt.b.0"}) {
		t.Fatalf("creations = %v, want exec-adopt.a.0 (exists), exec-adopt.b.0", got)
	}
	e = f.waitTask("exec-adopt", "a", "0", "0", "")
	if e.Status.Phase != v1alpha1.PhaseRunning {
		t.Errorf("phase = %s, want Running", e.Status.Phase)
	}
	f.waitEvent("Normal JobAdopted Adopted existing job exec-adopt.a.0")
	f.succeed("exec-adopt.b.0")
	f.waitStatus("exec-adopt", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
}

// A Job of the same name that this Execution does not control is neither
// adopted nor waited for: its vertex, and the Execution, fail.
func TestRefusesForeignJob(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		foreign func(e *v1alpha1.Execution) *batchv1.Job
	}{{
		name: "labelled, owned by another execution", // in the controller's cache
		foreign: func(e *v1alpha1.Execution) *batchv1.Job {
			job := ownedJob(t, e, 0, 0)
			job.OwnerReferences[0].UID = "another-uid"
			job.OwnerReferences[0].Name = "another-execution"
			return job
		},
	}, {
		name: "unlabelled, no owner", // only found through the API
		foreign: func(e *v1alpha1.Execution) *batchv1.Job {
			return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "exec-foreign.a.0", Namespace: testNamespace}}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newExecution("exec-foreign", task("a", 2))
			f := newFixture(t, []runtime.Object{tc.foreign(e)}, e)
			f.run()

			e = f.waitStatus("exec-foreign", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
			msg := "job exec-foreign.a.0 exists and is not owned by execution exec-foreign"
			if e.Status.Message != msg {
				t.Errorf("message = %q, want %q", e.Status.Message, msg)
			}
			a := taskStatus(&e.Status, "a")
			if a.Failed != "0" || !slices.Equal(a.Messages, []v1alpha1.JobMessage{{Index: 0, Message: msg}}) {
				t.Errorf("task a = %+v, want failed 0 with the message", a)
			}
			// Nothing started after the failure.
			if got := f.created(); !slices.Equal(got, []string{"exec-foreign.a.0"}) {
				t.Errorf("creations = %v, want only the attempt at exec-foreign.a.0", got)
			}
			f.waitEvent("Warning ExecutionFailed " + msg)
		})
	}
}

// A new controller over a partly run Execution continues where the last
// one stopped: Jobs in the cluster and the stored status say what ran, and
// no Job is created twice.
func TestRestartFromPartialState(t *testing.T) {
	t.Parallel()
	started := metav1.NewTime(time.Date(2018, 10, 16, 8, 18, 57, 0, time.UTC))
	e := newExecution("exec-restart", task("a", 4), task("b", 2, whole("a")))
	e.Status = v1alpha1.ExecutionStatus{
		Phase:     v1alpha1.PhaseRunning,
		StartedAt: &started,
		// a.0 succeeded and its Job is gone; a.3 was created after this
		// status was written.
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-2", Succeeded: "0"}},
	}
	jobs := []runtime.Object{
		ownedJob(t, e, 0, 1, batchv1.JobComplete),
		ownedJob(t, e, 0, 2),
		ownedJob(t, e, 0, 3),
	}
	f := newFixture(t, jobs, e)
	f.run()

	f.waitTask("exec-restart", "a", "0-3", "0-1", "")
	if got := f.created(); len(got) != 0 {
		t.Fatalf("jobs created on restart: %v", got)
	}
	f.succeed("exec-restart.a.2")
	f.waitTask("exec-restart", "a", "0-3", "0-2", "")
	if got := f.created(); len(got) != 0 {
		t.Fatalf("b created before a.3 succeeded: %v", got)
	}
	f.succeed("exec-restart.a.3")
	assertSameSet(t, "jobs created", f.waitCreated(2), "exec-restart.b.0", "exec-restart.b.1")
	f.succeed("exec-restart.b.0", "exec-restart.b.1")
	e = f.waitStatus("exec-restart", "phase Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	if !e.Status.StartedAt.Equal(&started) {
		t.Errorf("startedAt = %v, want the stored %v", e.Status.StartedAt, started)
	}
}

// A Job that was created, then deleted before it finished while no
// controller watched, fails its vertex rather than running again.
func TestRestartWithDeletedUnfinishedJob(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-gone", task("a", 2))
	e.Status = v1alpha1.ExecutionStatus{
		Phase: v1alpha1.PhaseRunning,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1"}},
	}
	f := newFixture(t, []runtime.Object{ownedJob(t, e, 0, 1)}, e)
	f.run()

	e = f.waitStatus("exec-gone", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	if want := "job exec-gone.a.0 was deleted before it finished"; e.Status.Message != want {
		t.Errorf("message = %q, want %q", e.Status.Message, want)
	}
	if got := f.created(); len(got) != 0 {
		t.Errorf("jobs created: %v", got)
	}
}

// Deleting an Execution drops what the controller kept about it; its Jobs
// are the garbage collector's, through their owner reference.
func TestDeletedExecutionIsForgotten(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-del", task("a", 1)))
	f.run()

	f.waitTask("exec-del", "a", "0", "", "")
	if f.states() != 1 {
		t.Fatalf("states = %d, want 1", f.states())
	}
	if err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Delete(context.Background(), "exec-del", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("state dropped", func() bool { return f.states() == 0 })
}

// A large Execution records the first JobCreated events only, as many as
// the spam filter would send; the rest are not made at all.
func TestJobCreatedEventsWithinBudget(t *testing.T) {
	t.Parallel()
	const jobs = eventSpamBurst + 15
	f := newFixture(t, nil, newExecution("many", task("a", jobs)))
	f.run()
	f.waitCreated(jobs)
	f.waitTask("many", "a", fmt.Sprintf("0-%d", jobs-1), "", "")
	if n := f.countEvents("Normal JobCreated"); n != eventSpamBurst {
		t.Errorf("%d JobCreated events recorded for %d jobs, want %d", n, jobs, eventSpamBurst)
	}
}
