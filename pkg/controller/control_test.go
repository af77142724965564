package controller

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution/v1alpha1"
)

// setSuspend writes spec.suspend as a user's patch would.
func (f *fixture) setSuspend(name string, suspend bool) {
	f.t.Helper()
	e := f.execution(name)
	e.Spec.Suspend = ptr.To(suspend)
	e.Generation++
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Update(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// assertNoNewJobs checks that the creations stay at n for a while.
func (f *fixture) assertNoNewJobs(n int, during time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(during)
	for time.Now().Before(deadline) {
		if got := f.created(); len(got) != n {
			f.t.Fatalf("jobs created while they should not be: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func suspendedCondition(s *v1alpha1.ExecutionStatus) *metav1.Condition {
	return meta.FindStatusCondition(s.Conditions, v1alpha1.ConditionSuspended)
}

// While suspended no Job is created, running ones finish and are recorded;
// the status and events say so. Resuming goes on where it stopped.
func TestSuspendAndResume(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-suspend", task("a", 3))
	e.Spec.Parallelism = ptr.To[int64](1)
	f := newFixture(t, nil, e)
	f.run()

	f.waitCreated(1)
	f.setSuspend("exec-suspend", true)
	got := f.waitStatus("exec-suspend", "Suspended=True", func(s *v1alpha1.ExecutionStatus) bool {
		c := suspendedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	if got.Status.Phase != v1alpha1.PhaseRunning || !strings.HasPrefix(got.Status.Message, "suspended: no new job starts") {
		t.Errorf("suspended: phase %s, message %q", got.Status.Phase, got.Status.Message)
	}
	f.waitEvent("Normal Suspended")

	f.succeed("exec-suspend.a.0")
	f.waitTask("exec-suspend", "a", "0", "0", "")
	f.assertNoNewJobs(1, 300*time.Millisecond)

	f.setSuspend("exec-suspend", false)
	f.waitCreated(2)
	got = f.waitStatus("exec-suspend", "Suspended=False", func(s *v1alpha1.ExecutionStatus) bool {
		c := suspendedCondition(s)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == reasonResumed
	})
	if strings.HasPrefix(got.Status.Message, "suspended") {
		t.Errorf("resumed, message still %q", got.Status.Message)
	}
	f.waitEvent("Normal Resumed")
	f.succeed("exec-suspend.a.1")
	f.waitCreated(3)
	f.succeed("exec-suspend.a.2")
	f.waitStatus("exec-suspend", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
}

// A user's suspension that lands between the controller's read and its
// status write makes the write conflict; the retry stores Suspended=True,
// and the event must come with it, not be lost because the status first
// computed had no suspension.
func TestSuspendedDuringStatusWrite(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-race", task("a", 2))
	f := newFixture(t, nil, e)
	var once sync.Once
	var conflicted atomic.Bool
	f.exec.PrependReactor("update", "executions", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" {
			return false, nil, nil
		}
		var conflict error
		once.Do(func() {
			conflicted.Store(true)
			gvr := v1alpha1.SchemeGroupVersion.WithResource("executions")
			obj, err := f.exec.Tracker().Get(gvr, testNamespace, "exec-race")
			if err != nil {
				conflict = err
				return
			}
			user := obj.(*v1alpha1.Execution).DeepCopy()
			user.Spec.Suspend = ptr.To(true)
			user.Generation++
			user.ResourceVersion = "user-suspend"
			if err := f.exec.Tracker().Update(gvr, user, testNamespace); err != nil {
				conflict = err
				return
			}
			conflict = apierrors.NewConflict(v1alpha1.Resource("executions"), "exec-race", errors.New("suspended by a user meanwhile"))
		})
		if conflict != nil {
			return true, nil, conflict
		}
		return false, nil, nil
	})
	f.run()

	f.waitStatus("exec-race", "Suspended=True", func(s *v1alpha1.ExecutionStatus) bool {
		c := suspendedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	f.waitEvent("Normal Suspended")
	if !conflicted.Load() {
		t.Fatal("the status write never conflicted: the test did not test the retry")
	}
	// The retry itself, the first write that got through, stored the
	// suspension: it did not wait for another sync.
	if written := f.writtenStatuses(); len(written) == 0 || suspendedCondition(&written[0]) == nil ||
		suspendedCondition(&written[0]).Status != metav1.ConditionTrue {
		t.Errorf("first status stored: %+v, want Suspended=True", written)
	}
	if n := f.countEvents("Normal Suspended"); n != 1 {
		t.Errorf("%d Suspended events, want 1", n)
	}
}

// heldWatch passes on the events of a watch, except while held: then it
// keeps them, in order, until released. It makes an informer's cache lag.
// (The fake tracker's watch buffers 100 events: hold fewer.)
type heldWatch struct {
	inner watch.Interface
	out   chan watch.Event
	held  *atomic.Bool
	stop  chan struct{}
	once  sync.Once
}

func newHeldWatch(inner watch.Interface, held *atomic.Bool) *heldWatch {
	w := &heldWatch{inner: inner, out: make(chan watch.Event), held: held, stop: make(chan struct{})}
	go func() {
		defer close(w.out)
		for ev := range inner.ResultChan() {
			for held.Load() {
				select {
				case <-w.stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
			select {
			case w.out <- ev:
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

func (w *heldWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *heldWatch) Stop() {
	w.once.Do(func() {
		close(w.stop)
		w.inner.Stop()
	})
}

// A suspension the controller learnt from its own fresh read (its status
// write conflicted with the user's change) holds while its Execution cache
// still shows the Execution unsuspended: no further Job starts, and the
// status does not flip back to resumed.
func TestSuspensionHoldsWhileTheCacheLags(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-lag", task("a", 3))
	e.Spec.Parallelism = ptr.To[int64](1)
	f := newFixture(t, nil, e)
	var held atomic.Bool
	gvr := v1alpha1.SchemeGroupVersion.WithResource("executions")
	f.exec.PrependWatchReactor("executions", func(a clienttesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if w, ok := a.(clienttesting.WatchActionImpl); ok {
			opts = w.ListOptions
		}
		inner, err := f.exec.Tracker().Watch(gvr, a.GetNamespace(), opts)
		if err != nil {
			return true, nil, err
		}
		return true, newHeldWatch(inner, &held), nil
	})
	f.run()
	f.waitCreated(1)
	f.waitTask("exec-lag", "a", "0", "", "")
	f.waitFor("the cache to show the stored status", func() bool {
		cached, err := f.ctrl.executionLister.Executions(testNamespace).Get("exec-lag")
		return err == nil && cached.ResourceVersion == f.execution("exec-lag").ResourceVersion
	})

	held.Store(true)
	f.setSuspend("exec-lag", true)
	// The controller still sees the Execution unsuspended: the next job
	// starts, and its status write conflicts and reads the suspension.
	f.succeed("exec-lag.a.0")
	f.waitCreated(2)
	f.waitStatus("exec-lag", "Suspended=True", func(s *v1alpha1.ExecutionStatus) bool {
		c := suspendedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue
	})
	f.succeed("exec-lag.a.1")
	f.waitTask("exec-lag", "a", "0-1", "0-1", "")
	f.assertNoNewJobs(2, 300*time.Millisecond)
	if c := suspendedCondition(&f.execution("exec-lag").Status); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("suspended Execution's condition after a job finished: %+v", c)
	}
	if n := f.countEvents("Normal Suspended"); n != 1 {
		t.Errorf("%d Suspended events, want 1", n)
	}
	if f.hasEvent("Normal Resumed") {
		t.Error("a Resumed event while the Execution stays suspended")
	}

	held.Store(false)
	f.setSuspend("exec-lag", false)
	f.waitCreated(3)
}

// An Execution created suspended creates nothing until resumed.
func TestCreatedSuspended(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-held", task("a", 2))
	e.Spec.Suspend = ptr.To(true)
	f := newFixture(t, nil, e)
	f.run()
	f.waitStatus("exec-held", "Suspended=True", func(s *v1alpha1.ExecutionStatus) bool {
		c := suspendedCondition(s)
		return c != nil && c.Status == metav1.ConditionTrue && s.Phase == v1alpha1.PhasePending
	})
	f.assertNoNewJobs(0, 200*time.Millisecond)
	f.setSuspend("exec-held", false)
	f.waitCreated(2)
}

// ContinueIndependent: a failed job stops only what depends on it; the
// Execution fails once nothing else can run, naming the failed job.
func TestContinueIndependent(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-ci", task("a", 1), task("b", 1, whole("a")), task("c", 1), task("d", 1, whole("c")))
	e.Spec.FailurePolicy = v1alpha1.ContinueIndependent
	f := newFixture(t, nil, e)
	f.run()

	assertSameSet(t, "roots created", f.waitCreated(2), "exec-ci.a.0", "exec-ci.c.0")
	f.finish("exec-ci.a.0", batchv1.JobFailed, "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	got := f.waitTask("exec-ci", "a", "0", "", "0")
	if got.Status.Phase != v1alpha1.PhaseRunning {
		t.Errorf("after a failure with an independent branch running: phase %s, want Running", got.Status.Phase)
	}
	f.succeed("exec-ci.c.0")
	if created := f.waitCreated(3); created[2] != "exec-ci.d.0" {
		t.Fatalf("after c succeeded: created %v, want d.0 next", created)
	}
	f.succeed("exec-ci.d.0")
	got = f.waitStatus("exec-ci", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	want := "job exec-ci.a.0 failed: BackoffLimitExceeded; every job that did not depend on a failed job has run"
	if got.Status.Message != want {
		t.Errorf("message %q, want %q", got.Status.Message, want)
	}
	if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionFailed); c == nil || c.Message != want {
		t.Errorf("Failed condition %+v, want the same message", c)
	}
	if created := f.created(); len(created) != 3 {
		t.Errorf("b depends on the failed a and must not run: created %v", created)
	}
}

// With more failures the message names the first ones and counts them all.
func TestContinueIndependentNamesFailures(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-many", task("a", 5))
	e.Spec.FailurePolicy = v1alpha1.ContinueIndependent
	f := newFixture(t, nil, e)
	f.run()
	f.waitCreated(5)
	for _, i := range []string{"0", "1", "3", "4"} {
		f.finish("exec-many.a."+i, batchv1.JobFailed, "BackoffLimitExceeded", "")
	}
	f.succeed("exec-many.a.2")
	got := f.waitStatus("exec-many", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	want := "4 jobs failed: exec-many.a.0, exec-many.a.1, exec-many.a.3 and 1 more; every job that did not depend on a failed job has run"
	if got.Status.Message != want {
		t.Errorf("message %q, want %q", got.Status.Message, want)
	}
}

// At the deadline no new Job starts, running Jobs are deleted and the
// Execution fails with reason DeadlineExceeded.
func TestActiveDeadline(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-late", task("a", 2))
	e.Spec.Parallelism = ptr.To[int64](1)
	e.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
	f := newFixture(t, nil, e)
	f.run()

	f.waitCreated(1)
	got := f.waitStatus("exec-late", "phase Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })
	c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionFailed)
	if c == nil || c.Reason != reasonDeadlineExceeded || !strings.Contains(got.Status.Message, "active deadline of 1 seconds") {
		t.Errorf("condition %+v, message %q; want Failed/DeadlineExceeded naming the deadline", c, got.Status.Message)
	}
	f.waitFor("the running job deleted", func() bool {
		_, err := f.kube.BatchV1().Jobs(testNamespace).Get(context.Background(), "exec-late.a.0", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	f.waitEvent("Warning DeadlineExceeded")
	f.waitTask("exec-late", "a", "0", "", "0")
	f.assertNoNewJobs(1, 200*time.Millisecond)
}

// ttlSecondsAfterFinished deletes the finished Execution.
func TestTTLAfterFinished(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-ttl", task("a", 1))
	e.Spec.TTLSecondsAfterFinished = ptr.To[int32](1)
	f := newFixture(t, nil, e)
	f.run()
	f.waitCreated(1)
	f.succeed("exec-ttl.a.0")
	f.waitStatus("exec-ttl", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	f.waitFor("the execution deleted after its TTL", func() bool {
		_, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Get(context.Background(), "exec-ttl", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// The TTL counts from the stored finish time, so a controller that starts
// after the Execution finished (a restart, a new leader) still deletes it.
func TestTTLAfterRestart(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-old", task("a", 1))
	e.Spec.TTLSecondsAfterFinished = ptr.To[int32](30)
	finished := metav1.NewTime(time.Now().Add(-time.Minute))
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseSucceeded, Message: MessageSucceeded, StartedAt: &finished, FinishedAt: &finished}
	kept := newExecution("exec-kept", task("a", 1))
	kept.Spec.TTLSecondsAfterFinished = ptr.To[int32](3600)
	kept.Status = e.Status
	f := newFixture(t, nil, e, kept)
	f.run()
	f.waitFor("the expired execution deleted", func() bool {
		_, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Get(context.Background(), "exec-old", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).Get(context.Background(), "exec-kept", metav1.GetOptions{}); err != nil {
		t.Errorf("an execution within its TTL: %v", err)
	}
}

// retried writes what the retry subresource stores for exec-retry after
// a.0 failed and a.1 succeeded: a.0 moves to retrying, attempt 2.
func (f *fixture) retried(name string) {
	f.t.Helper()
	e := f.execution(name)
	e.Status.Attempts = 2
	e.Status.Phase = v1alpha1.PhaseRunning
	e.Status.FinishedAt = nil
	e.Status.Conditions = nil
	e.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "1", Succeeded: "1", Retrying: "0"}}
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).UpdateStatus(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) jobAttemptLabel(name string) string {
	f.t.Helper()
	job, err := f.kube.BatchV1().Jobs(testNamespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return job.Labels[LabelAttempt] + "/" + job.Spec.Template.Labels[LabelAttempt]
}

// A retried Execution deletes its failed Job, creates it again under the
// next attempt, keeps the succeeded ones and goes on to success.
func TestRetryRunsFailedJobsAgain(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-retry", task("a", 2), task("b", 1, whole("a"))))
	f.run()
	f.waitCreated(2)
	if got := f.jobAttemptLabel("exec-retry.a.0"); got != "1/1" {
		t.Errorf("attempt label of a first Job (job/pod): %s, want 1/1", got)
	}
	f.succeed("exec-retry.a.1")
	f.finish("exec-retry.a.0", batchv1.JobFailed, "BackoffLimitExceeded", "")
	f.waitStatus("exec-retry", "Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })

	f.retried("exec-retry")
	created := f.waitCreated(3)
	if created[2] != "exec-retry.a.0" {
		t.Fatalf("after the retry created %v, want a.0 again", created)
	}
	if got := f.jobAttemptLabel("exec-retry.a.0"); got != "2/2" {
		t.Errorf("attempt label of the retried Job (job/pod): %s, want 2/2", got)
	}
	f.waitEvent("Normal Retried Retrying 1 failed jobs (attempt 2)")
	f.succeed("exec-retry.a.0")
	if created := f.waitCreated(4); created[3] != "exec-retry.b.0" {
		t.Fatalf("created %v, want b.0 after a.0 succeeded", created)
	}
	f.succeed("exec-retry.b.0")
	got := f.waitStatus("exec-retry", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	if got.Status.Attempts != 2 || taskStatus(&got.Status, "a").Retrying != "" {
		t.Errorf("attempts %d, a retrying %q; want 2 and none", got.Status.Attempts, taskStatus(&got.Status, "a").Retrying)
	}
}

// A controller that starts in the middle of a retry (the failed Job not yet
// deleted) finishes it: deletes the old Job, creates the job again once.
func TestRetryResumesAfterRestart(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-retry", task("a", 2), task("b", 1, whole("a")))
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseRunning, Attempts: 2,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "1", Succeeded: "1", Retrying: "0"}}}
	oldFailed := ownedJob(t, newExecution("exec-retry", task("a", 2), task("b", 1, whole("a"))), 0, 0, batchv1.JobFailed)
	succeeded := ownedJob(t, e, 0, 1, batchv1.JobComplete)
	f := newFixture(t, []runtime.Object{oldFailed, succeeded}, e)
	f.run()

	if created := f.waitCreated(1); created[0] != "exec-retry.a.0" {
		t.Fatalf("created %v, want a.0 again", created)
	}
	if got := f.jobAttemptLabel("exec-retry.a.0"); got != "2/2" {
		t.Errorf("attempt label of the retried Job: %s, want 2/2", got)
	}
	f.succeed("exec-retry.a.0")
	f.waitCreated(2)
	f.succeed("exec-retry.b.0")
	f.waitStatus("exec-retry", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
	if created := f.created(); len(created) != 2 {
		t.Errorf("created %v: a.1 succeeded before and must not run again", created)
	}
}

// A retry while a job of the earlier attempt still runs: that Job's
// outcome still counts (only the retried jobs' old Jobs are stale).
func TestRetryWhileEarlierJobsRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil, newExecution("exec-retry", task("a", 2), task("b", 1, whole("a"))))
	f.run()
	f.waitCreated(2)
	f.finish("exec-retry.a.0", batchv1.JobFailed, "BackoffLimitExceeded", "")
	f.waitStatus("exec-retry", "Failed", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseFailed })

	e := f.execution("exec-retry")
	e.Status.Attempts, e.Status.Phase, e.Status.FinishedAt, e.Status.Conditions = 2, v1alpha1.PhaseRunning, nil, nil
	e.Status.Tasks = []v1alpha1.TaskStatus{{Name: "a", Created: "1", Retrying: "0"}}
	if _, err := f.exec.ExecutionV1alpha1().Executions(testNamespace).UpdateStatus(context.Background(), e, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if created := f.waitCreated(3); created[2] != "exec-retry.a.0" {
		t.Fatalf("created %v, want a.0 again", created)
	}
	f.succeed("exec-retry.a.1") // the Job of attempt 1, still running at the retry
	f.succeed("exec-retry.a.0")
	if created := f.waitCreated(4); created[3] != "exec-retry.b.0" {
		t.Fatalf("created %v, want b.0 once both jobs of a succeeded", created)
	}
}

// A controller that starts after an Execution failed, while some of its
// Jobs still ran, follows those Jobs to their end.
func TestTerminalExecutionWithRunningJobsAfterRestart(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-late-jobs", task("a", 2))
	finished := metav1.NewTime(time.Now())
	e.Status = v1alpha1.ExecutionStatus{Phase: v1alpha1.PhaseFailed, Message: "job exec-late-jobs.a.0 failed: BackoffLimitExceeded",
		StartedAt: &finished, FinishedAt: &finished,
		Tasks: []v1alpha1.TaskStatus{{Name: "a", Created: "0-1", Failed: "0"}}}
	failed := ownedJob(t, e, 0, 0, batchv1.JobFailed)
	running := ownedJob(t, e, 0, 1)
	f := newFixture(t, []runtime.Object{failed, running}, e)
	f.run()
	f.waitFor("a state for the execution", func() bool { return f.states() == 1 })
	f.succeed("exec-late-jobs.a.1")
	got := f.waitTask("exec-late-jobs", "a", "0-1", "1", "0")
	if got.Status.Phase != v1alpha1.PhaseFailed {
		t.Errorf("phase %s, want Failed still", got.Status.Phase)
	}
}

// The Job of a deleted Execution of the same name is waited for until the
// garbage collector removes it; then the new Execution's Job is created.
func TestSameNameAgainWaitsForTheOldJobs(t *testing.T) {
	t.Parallel()
	e := newExecution("exec-again", task("a", 1))
	old := ownedJob(t, e, 0, 0, batchv1.JobComplete)
	old.OwnerReferences[0].UID = "uid-of-the-deleted-one"
	f := newFixture(t, []runtime.Object{old}, e)
	f.run()
	f.waitFor("a creation, refused: the name is taken", func() bool { return len(f.created()) >= 1 })
	f.waitEvent("Normal JobCreateFailed Waiting for job exec-again.a.0 of a deleted execution")
	if got := f.execution("exec-again"); got.Status.Phase == v1alpha1.PhaseFailed {
		t.Fatalf("failed instead of waiting: %s", got.Status.Message)
	}
	// The garbage collector deletes the old Job.
	if err := f.kube.BatchV1().Jobs(testNamespace).Delete(context.Background(), "exec-again.a.0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the job created anew", func() bool {
		job, err := f.kube.BatchV1().Jobs(testNamespace).Get(context.Background(), "exec-again.a.0", metav1.GetOptions{})
		return err == nil && metav1.GetControllerOf(job).UID == e.UID
	})
	f.succeed("exec-again.a.0")
	f.waitStatus("exec-again", "Succeeded", func(s *v1alpha1.ExecutionStatus) bool { return s.Phase == v1alpha1.PhaseSucceeded })
}
